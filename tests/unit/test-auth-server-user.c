/*
 * Per-user settings of the authentication server (auth_server_set_user
 * from the user_first hook), in memory with a hand-made client: the hook
 * runs once, on the first request and before its answer; the methods
 * offered, the AuthenticationMethods lists (partial success), the
 * failure limit and the signature algorithms follow the user's settings;
 * lists naming a method not offered are dropped, and with none left the
 * connection ends; the settings cannot change once a method succeeded.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth-int.h"
#include "ferry/auth.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/transport.h"
#include "tap.h"
#include "test-conn-pair.h"

static struct key *ukey;

/* The user settings the hook gives "alice" (others keep the server's). */
static struct auth_server_user alice;
static int hook_calls, hook_ret, hook_set_r;
static char hook_user[64];

/* What the raw client saw. */
static char last_list[256];
static int last_partial, failures, successes;

static int
hook(struct auth_server *a, const char *user, void *ctx)
{
	(void)ctx;
	hook_calls++;
	snprintf(hook_user, sizeof(hook_user), "%s", user);
	if (hook_ret != 0)
		return hook_ret;
	if (strcmp(user, "alice") != 0)
		return 0;
	hook_set_r = auth_server_set_user(a, &alice);
	return hook_set_r;
}

static int
pol_pubkey(const char *user, const struct key *key, void *ctx)
{
	(void)ctx;
	return strcmp(user, "alice") == 0 && key_equal_public(key, ukey);
}

static int
pol_password(const char *user, const char *pw, void *ctx)
{
	(void)ctx;
	return strcmp(user, "alice") == 0 && strcmp(pw, "right") == 0;
}

static int
pol_kbdint(struct auth_kbdint *conv, const char *user, void *ctx)
{
	(void)conv;
	(void)user;
	(void)ctx;
	return AUTH_KBDINT_FAILURE;
}

/* The raw client records USERAUTH_FAILURE and SUCCESS. */
static void
raw(struct peer *p, uint8_t msg, struct buf *m)
{
	char *list = NULL;
	int partial;

	(void)p;
	if (msg == AUTH_MSG_SUCCESS)
		successes++;
	if (msg != AUTH_MSG_FAILURE)
		return;
	if (buf_get_cstring(m, &list, NULL) != 0 ||
	    buf_get_bool(m, &partial) != 0 || buf_expect_end(m) != 0)
		abort();
	snprintf(last_list, sizeof(last_list), "%s", list);
	last_partial = partial;
	failures++;
	free(list);
}

/*
 * A server with every callback and the global lists methods, the
 * ssh-userauth service already accepted.
 */
static void
start(struct peer *c, struct peer *s, const char *methods)
{
	struct auth_server_config sc;
	struct buf *b;

	pair_init(c, s, NULL);
	memset(&sc, 0, sizeof(sc));
	sc.methods = methods;
	sc.pubkey_allowed = pol_pubkey;
	sc.password = pol_password;
	sc.kbdint = pol_kbdint;
	sc.user_first = hook;
	if (auth_server_new(s->t, &sc, &s->as) != 0)
		abort();
	c->raw = raw;
	hook_calls = hook_ret = hook_set_r = 0;
	hook_user[0] = last_list[0] = '\0';
	last_partial = failures = successes = 0;
	if ((b = buf_new()) == NULL ||
	    buf_put_cstring(b, "ssh-userauth") != 0 ||
	    peer_send_raw(c, TRANSPORT_MSG_SERVICE_REQUEST, b) != 0)
		abort();
	buf_free(b);
	pair_pump(c, s);
}

static struct buf *
head(const char *user, const char *method)
{
	struct buf *b = buf_new();

	if (b == NULL || buf_put_cstring(b, user) != 0 ||
	    buf_put_cstring(b, "ssh-connection") != 0 ||
	    buf_put_cstring(b, method) != 0)
		abort();
	return b;
}

static void
send_none(struct peer *c, struct peer *s, const char *user)
{
	struct buf *b = head(user, "none");

	if (peer_send_raw(c, AUTH_MSG_REQUEST, b) != 0)
		abort();
	buf_free(b);
	pair_pump(c, s);
}

static void
send_password(struct peer *c, struct peer *s, const char *user,
    const char *pw)
{
	struct buf *b = head(user, "password");

	if (buf_put_bool(b, 0) != 0 || buf_put_cstring(b, pw) != 0 ||
	    peer_send_raw(c, AUTH_MSG_REQUEST, b) != 0)
		abort();
	buf_free(b);
	pair_pump(c, s);
}

/* A signed publickey request of ukey with alg, over c's session id. */
static void
send_pubkey(struct peer *c, struct peer *s, const char *user, const char *alg)
{
	struct buf *b = head(user, "publickey"), *blob = buf_new();
	struct buf *data = buf_new(), *sig = buf_new();
	const uint8_t *sid;
	size_t sidlen;

	if ((sid = transport_session_id(c->t, &sidlen)) == NULL ||
	    blob == NULL || data == NULL || sig == NULL ||
	    key_to_blob(ukey, blob) != 0 ||
	    auth_sign_data(data, sid, sidlen, user, "ssh-connection", alg,
	    buf_ptr(blob), buf_len(blob)) != 0 ||
	    key_sign(ukey, alg, buf_ptr(data), buf_len(data), 0, sig) != 0 ||
	    buf_put_bool(b, 1) != 0 || buf_put_cstring(b, alg) != 0 ||
	    buf_put_stringb(b, blob) != 0 || buf_put_stringb(b, sig) != 0 ||
	    peer_send_raw(c, AUTH_MSG_REQUEST, b) != 0)
		abort();
	buf_free(b);
	buf_free(blob);
	buf_free(data);
	buf_free(sig);
	pair_pump(c, s);
}

static void
test_lists(void)
{
	struct peer c, s;
	struct auth_server_user u;

	alice.enabled = AUTH_SERVER_PUBLICKEY | AUTH_SERVER_PASSWORD;
	alice.methods = "publickey,password";
	alice.max_tries = 0;
	alice.pubkey_algs = NULL;

	/* alice: her lists; the hook once, before the first answer. */
	start(&c, &s, NULL);
	send_none(&c, &s, "alice");
	is_int(hook_calls, 1, "the hook runs on the first request");
	is_int(strcmp(hook_user, "alice"), 0, "with the request's user");
	is_int(strcmp(last_list, "publickey"), 0,
	    "the first answer offers the user's list: publickey");
	send_password(&c, &s, "alice", "right");
	ok(failures == 2 && !last_partial && auth_server_failures(s.as) == 1,
	    "a password first is not next in her list: a counted failure");
	send_pubkey(&c, &s, "alice", "ssh-ed25519");
	ok(last_partial && strcmp(last_list, "password") == 0,
	    "the key: partial success, password left");
	memset(&u, 0, sizeof(u));
	u.enabled = AUTH_SERVER_PUBLICKEY;
	is_int(auth_server_set_user(s.as, &u), FERR_ARGUMENT,
	    "no new settings after a partial success");
	send_password(&c, &s, "alice", "right");
	ok(successes == 1 && s.authed &&
	    strcmp(auth_server_methods_done(s.as), "publickey,password") == 0,
	    "the key then the password complete her list");
	is_int(hook_calls, 1, "the hook ran once for all requests");
	is_int(auth_server_set_user(s.as, &u), FERR_ARGUMENT,
	    "no new settings after success");
	pair_free(&c, &s);

	/* bob: the server's settings. */
	start(&c, &s, NULL);
	send_none(&c, &s, "bob");
	is_int(strcmp(last_list, "publickey,password,keyboard-interactive"),
	    0, "another user keeps the server's methods");
	pair_free(&c, &s);

	/* Methods not enabled are neither offered nor accepted. */
	alice.enabled = AUTH_SERVER_PUBLICKEY | AUTH_SERVER_KBDINT;
	alice.methods = NULL;
	start(&c, &s, NULL);
	send_none(&c, &s, "alice");
	is_int(strcmp(last_list, "publickey,keyboard-interactive"), 0,
	    "password disabled for the user: not offered");
	send_password(&c, &s, "alice", "right");
	ok(!s.authed && auth_server_failures(s.as) == 1,
	    "a right password is refused when disabled for the user");
	pair_free(&c, &s);

	/* A list naming a disabled method is dropped; the others stay. */
	alice.enabled = AUTH_SERVER_PUBLICKEY;
	alice.methods = "password publickey";
	start(&c, &s, NULL);
	send_none(&c, &s, "alice");
	ok(hook_set_r == 0 && strcmp(last_list, "publickey") == 0,
	    "a list with a disabled method is dropped");
	send_pubkey(&c, &s, "alice", "ssh-ed25519");
	ok(s.authed, "the other list completes");
	pair_free(&c, &s);

	/* No list left: the connection ends. */
	alice.methods = "password,publickey";
	start(&c, &s, NULL);
	send_none(&c, &s, "alice");
	ok(hook_set_r == FERR_CONFIG && c.disconnected &&
	    c.reason == TRANSPORT_DISC_NO_MORE_AUTH_METHODS && failures == 0,
	    "no list left: disconnected before any answer");
	pair_free(&c, &s);

	/* Malformed lists are refused and change nothing. */
	alice.enabled = AUTH_SERVER_PASSWORD;
	alice.methods = "publickey,";
	start(&c, &s, NULL);
	send_none(&c, &s, "alice");
	ok(hook_set_r == FERR_CONFIG && c.disconnected, "a malformed list "
	    "is refused (the hook's error ends the connection)");
	pair_free(&c, &s);

	/* A hook failing otherwise ends the connection too. */
	start(&c, &s, NULL);
	hook_ret = FERR_SYSTEM;
	send_none(&c, &s, "alice");
	ok(c.disconnected && c.reason == TRANSPORT_DISC_BY_APPLICATION &&
	    failures == 0 && s.auth_err == FERR_SYSTEM,
	    "a failing hook: disconnected by application");
	pair_free(&c, &s);
}

static void
test_max_tries_algs(void)
{
	struct peer c, s;
	int i;

	/* MaxAuthTries from the user's settings. */
	alice.enabled = AUTH_SERVER_PUBLICKEY | AUTH_SERVER_PASSWORD;
	alice.methods = NULL;
	alice.max_tries = 2;
	start(&c, &s, NULL);
	for (i = 0; i < 3 && !c.disconnected; i++)
		send_password(&c, &s, "alice", "wrong");
	ok(i == 2 && c.disconnected &&
	    c.reason == TRANSPORT_DISC_NO_MORE_AUTH_METHODS,
	    "the user's MaxAuthTries 2: disconnected at the second failure");
	pair_free(&c, &s);
	start(&c, &s, NULL);
	for (i = 0; i < 3 && !c.disconnected; i++)
		send_password(&c, &s, "bob", "wrong");
	ok(i == 3 && !c.disconnected, "another user keeps the default");
	pair_free(&c, &s);

	/* The user's signature algorithms. */
	alice.max_tries = 0;
	alice.pubkey_algs = "rsa-sha2-256";
	start(&c, &s, NULL);
	send_pubkey(&c, &s, "alice", "ssh-ed25519");
	ok(!s.authed && auth_server_failures(s.as) == 1,
	    "an algorithm the user does not accept is refused");
	pair_free(&c, &s);
	alice.pubkey_algs = "ssh-ed25519";
	start(&c, &s, NULL);
	send_pubkey(&c, &s, "alice", "ssh-ed25519");
	ok(s.authed, "the user's algorithms accept ssh-ed25519");
	pair_free(&c, &s);
	alice.pubkey_algs = NULL;
}

/* A second user name is refused as ever (the settings stay the first's). */
static void
test_change(void)
{
	struct peer c, s;

	alice.enabled = AUTH_SERVER_PUBLICKEY;
	alice.methods = NULL;
	start(&c, &s, NULL);
	send_none(&c, &s, "alice");
	send_password(&c, &s, "bob", "right");
	ok(c.disconnected && c.reason == TRANSPORT_DISC_PROTOCOL_ERROR &&
	    hook_calls == 1, "a change of user name ends the connection");
	pair_free(&c, &s);
}

int
main(void)
{
	if (key_generate(KEY_ED25519, 0, &ukey) != 0)
		abort();
	test_lists();
	test_max_tries_algs();
	test_change();
	key_free(ukey);
	return tap_done();
}
