/*
 * User authentication in memory: a client engine against a server
 * engine for every method, partial success chains, wrong keys and
 * passwords, MaxAuthTries and the banner; then hostile clients and
 * servers built by hand that must be refused with bounded memory.
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

static struct key *k_ed, *k_ec, *k_rsa, *k_other;

/* What the server's policy allows and what the client supplies. */
struct policy {
	const struct key *allowed[4];
	size_t nallowed;
	const char *good_password;
	const char *client_password;	/* NULL: no password callback */
	unsigned int password_asked;
	unsigned int pubkey_asked;
	uint8_t last_blob[2048];	/* blob of the key last asked about */
	size_t last_blob_len;
	char banner[512];
	int kbd_rounds;			/* server: prompt rounds */
	const char *kbd_answer;		/* client answer to every prompt */
	char kbd_prompt_seen[128];
	int kbd_client_calls;
	int exec_seen;
};

static int
pol_pubkey(const char *user, const struct key *key, void *ctx)
{
	struct policy *p = ctx;
	size_t i;

	struct buf *b = buf_new();

	p->pubkey_asked++;
	if (b == NULL || key_to_blob(key, b) != 0 ||
	    buf_len(b) > sizeof(p->last_blob))
		abort();
	memcpy(p->last_blob, buf_ptr(b), buf_len(b));
	p->last_blob_len = buf_len(b);
	buf_free(b);
	if (strcmp(user, "alice") != 0)
		return 0;
	for (i = 0; i < p->nallowed; i++)
		if (key_equal_public(p->allowed[i], key))
			return 1;
	return 0;
}

/* Whether the policy was last asked about key. */
static int
asked_about(const struct policy *p, const struct key *key)
{
	struct buf *b = buf_new();
	int same;

	if (b == NULL || key_to_blob(key, b) != 0)
		abort();
	same = buf_len(b) == p->last_blob_len &&
	    memcmp(buf_ptr(b), p->last_blob, p->last_blob_len) == 0;
	buf_free(b);
	return same;
}

static int
pol_password(const char *user, const char *pw, void *ctx)
{
	struct policy *p = ctx;

	return strcmp(user, "alice") == 0 && p->good_password != NULL &&
	    strcmp(pw, p->good_password) == 0;
}

static int
pol_kbdint(struct auth_kbdint *conv, const char *user, void *ctx)
{
	struct policy *p = ctx;
	unsigned int round = auth_kbdint_round(conv);
	char want[32];

	(void)user;
	if (round > 0) {
		snprintf(want, sizeof(want), "answer%u", round - 1);
		if (auth_kbdint_nresponses(conv) != 1 ||
		    strcmp(auth_kbdint_response(conv, 0), want) != 0)
			return AUTH_KBDINT_FAILURE;
	}
	if ((int)round >= p->kbd_rounds)
		return AUTH_KBDINT_SUCCESS;
	snprintf(want, sizeof(want), "Code %u: ", round);
	if (auth_kbdint_set_text(conv, "Two-factor", "Type the code") != 0 ||
	    auth_kbdint_add_prompt(conv, want, 0) != 0)
		return -1;
	return AUTH_KBDINT_PROMPT;
}

static int
cli_password(const char *user, unsigned int attempt, char **pwp, void *ctx)
{
	struct policy *p = ctx;

	(void)user;
	(void)attempt;
	p->password_asked++;
	if (p->client_password == NULL)
		return -1;
	*pwp = strdup(p->client_password);
	return *pwp == NULL ? -1 : 0;
}

static int
cli_kbdint(const char *name, const char *instruction, size_t n,
    const char *const *prompts, const int *echo, char **responses, void *ctx)
{
	struct policy *p = ctx;
	char buf[32];
	size_t i;

	(void)name;
	(void)instruction;
	(void)echo;
	for (i = 0; i < n; i++) {
		snprintf(p->kbd_prompt_seen, sizeof(p->kbd_prompt_seen), "%s",
		    prompts[i]);
		if (p->kbd_answer != NULL)
			snprintf(buf, sizeof(buf), "%s", p->kbd_answer);
		else
			snprintf(buf, sizeof(buf), "answer%d", p->kbd_client_calls);
		if ((responses[i] = strdup(buf)) == NULL)
			return -1;
	}
	p->kbd_client_calls++;
	return 0;
}

static void
cli_banner(const char *text, void *ctx)
{
	struct policy *p = ctx;

	snprintf(p->banner, sizeof(p->banner), "%s", text);
}

/* An "agent": signs with the private key matching a public one. */
static unsigned int agent_signs;

static int
agent_sign(const struct key *key, const char *alg, const uint8_t *data,
    size_t len, struct buf *sig, void *ctx)
{
	(void)ctx;
	if (!key_equal_public(key, k_ec))
		return FERR_KEY_NOT_FOUND;
	agent_signs++;
	return key_sign(k_ec, alg, data, len, 0, sig);
}

struct setup {
	const char *server_methods;	/* AuthenticationMethods */
	const char *pubkey_algs;
	const char *server_sig_algs;
	unsigned int max_tries;
	const char *banner;
	int no_password, no_kbdint, no_pubkey;	/* server side */
	struct key *const *keys;	/* client */
	size_t nkeys;
	const char *client_methods;
	unsigned int password_tries;
	int client_kbdint;
	const char *user;
	auth_sign_fn *sign;
	auth_key_ready_fn *key_ready;
	int pipeline;			/* call auth_client_pipeline */
};

/* Requests auth_client_pipeline sent ahead of SERVICE_ACCEPT. */
static unsigned int early_sent;

static void
cli_pipeline(struct peer *p)
{
	int r;

	if (p->ac == NULL || p->auth_err != 0)
		return;
	if ((r = auth_client_pipeline(p->ac)) == 1)
		early_sent++;
	else if (r < 0)
		p->auth_err = r;
}

static int ready_answer;

static int
cli_key_ready(const struct key *key, void *ctx)
{
	(void)key;
	(void)ctx;
	return ready_answer;
}

/* Run one authentication; returns 1 when both sides succeeded. */
static int
run_auth(const struct setup *su, struct policy *pol, struct peer *c,
    struct peer *s)
{
	struct auth_client_config cc;
	struct auth_server_config sc;

	pair_init(c, s, su->server_sig_algs);
	memset(&sc, 0, sizeof(sc));
	sc.methods = su->server_methods;
	sc.pubkey_algs = su->pubkey_algs;
	sc.max_tries = su->max_tries;
	sc.banner = su->banner;
	sc.pubkey_allowed = su->no_pubkey ? NULL : pol_pubkey;
	sc.password = su->no_password ? NULL : pol_password;
	sc.kbdint = su->no_kbdint ? NULL : pol_kbdint;
	sc.ctx = pol;
	memset(&cc, 0, sizeof(cc));
	cc.user = su->user != NULL ? su->user : "alice";
	cc.methods = su->client_methods;
	cc.keys = su->keys;
	cc.nkeys = su->nkeys;
	cc.sign = su->sign;
	cc.key_ready = su->key_ready;
	cc.password = pol->client_password != NULL ? cli_password : NULL;
	cc.password_tries = su->password_tries;
	cc.kbdint = su->client_kbdint ? cli_kbdint : NULL;
	cc.banner = cli_banner;
	cc.ctx = pol;
	if (auth_server_new(s->t, &sc, &s->as) != 0 ||
	    auth_client_new(c->t, &cc, &c->ac) != 0 ||
	    auth_client_start(c->ac) != 0)
		abort();
	early_sent = 0;
	if (su->pipeline)
		c->on_idle = cli_pipeline;
	pair_pump(c, s);
	return c->authed && s->authed;
}

static void
test_methods(void)
{
	struct peer c, s;
	struct policy pol;
	struct setup su;
	struct key *keys[3];

	/* publickey with each key type. */
	keys[0] = k_ed;
	memset(&su, 0, sizeof(su));
	su.keys = keys;
	su.nkeys = 1;
	memset(&pol, 0, sizeof(pol));
	pol.allowed[pol.nallowed++] = k_ed;
	ok(run_auth(&su, &pol, &c, &s), "publickey ed25519 accepted");
	ok(strcmp(auth_client_method(c.ac), "publickey") == 0 &&
	    strcmp(auth_server_methods_done(s.as), "publickey") == 0 &&
	    strcmp(auth_server_user(s.as), "alice") == 0,
	    "both sides agree on publickey for alice");
	ok(pol.pubkey_asked == 1,
	    "a private key is offered signed, without a query first (%u)",
	    pol.pubkey_asked);
	pair_free(&c, &s);

	keys[0] = k_ec;
	memset(&pol, 0, sizeof(pol));
	pol.allowed[pol.nallowed++] = k_ec;
	ok(run_auth(&su, &pol, &c, &s), "publickey ecdsa accepted");
	pair_free(&c, &s);

	/* RSA: rsa-sha2-512 or -256 as the server lists, never ssh-rsa. */
	keys[0] = k_rsa;
	memset(&pol, 0, sizeof(pol));
	pol.allowed[pol.nallowed++] = k_rsa;
	ok(run_auth(&su, &pol, &c, &s), "publickey rsa accepted (rsa-sha2-512)");
	pair_free(&c, &s);
	su.server_sig_algs = "ssh-ed25519,rsa-sha2-256";
	su.pubkey_algs = "rsa-sha2-256";
	ok(run_auth(&su, &pol, &c, &s),
	    "rsa-sha2-256 chosen when the server lists only it");
	pair_free(&c, &s);
	su.server_sig_algs = "ssh-ed25519,ssh-rsa";
	su.pubkey_algs = NULL;
	memset(&pol, 0, sizeof(pol));
	pol.allowed[pol.nallowed++] = k_rsa;
	ok(!run_auth(&su, &pol, &c, &s) && pol.pubkey_asked == 0 &&
	    c.auth_err == FERR_AUTH_FAILED,
	    "an RSA key is not offered with ssh-rsa (SHA-1)");
	pair_free(&c, &s);
	su.server_sig_algs = NULL;

	/* A public key signed through a callback (an agent). */
	if (key_demote(k_ec, &keys[1]) != 0)
		abort();
	keys[0] = keys[1];
	su.sign = agent_sign;
	memset(&pol, 0, sizeof(pol));
	pol.allowed[pol.nallowed++] = k_ec;
	ok(run_auth(&su, &pol, &c, &s) && agent_signs == 1,
	    "public key with a signing callback (agent) accepted");
	pair_free(&c, &s);
	/*
	 * A key the server accepts but that cannot sign (the agent lacks
	 * it, or its passphrase was wrong): the next key is tried.
	 */
	{
		struct key *both[2];

		if (key_demote(k_ed, &both[0]) != 0)
			abort();
		both[1] = keys[1];
		su.keys = both;
		su.nkeys = 2;
		memset(&pol, 0, sizeof(pol));
		pol.allowed[pol.nallowed++] = k_ed;
		pol.allowed[pol.nallowed++] = k_ec;
		agent_signs = 0;
		ok(run_auth(&su, &pol, &c, &s) && agent_signs == 1,
		    "a key that cannot sign is skipped for the next one");
		pair_free(&c, &s);
		key_free(both[0]);
		su.keys = keys;
		su.nkeys = 1;
	}
	key_free(keys[1]);
	su.sign = NULL;
	keys[0] = k_ec;
	memset(&pol, 0, sizeof(pol));
	if (key_demote(k_ed, &keys[1]) != 0)
		abort();
	keys[0] = keys[1];
	pol.allowed[pol.nallowed++] = k_ed;
	ok(!run_auth(&su, &pol, &c, &s) && pol.pubkey_asked == 0,
	    "a public key without a signer is not offered");
	pair_free(&c, &s);
	key_free(keys[1]);

	/* Several keys: the refused ones are skipped. */
	keys[0] = k_other;
	keys[1] = k_ec;
	keys[2] = k_ed;
	su.nkeys = 3;
	memset(&pol, 0, sizeof(pol));
	pol.allowed[pol.nallowed++] = k_ed;
	ok(run_auth(&su, &pol, &c, &s) && pol.pubkey_asked == 4,
	    "third key accepted after two refused");
	ok(auth_server_failures(s.as) == 2, "two refused keys counted (%u)",
	    auth_server_failures(s.as));
	pair_free(&c, &s);

	/* A key the server does not allow, with no other means. */
	su.nkeys = 1;
	memset(&pol, 0, sizeof(pol));
	pol.allowed[pol.nallowed++] = k_ed;
	ok(!run_auth(&su, &pol, &c, &s) && c.auth_err == FERR_AUTH_FAILED &&
	    s.disconnected && s.reason == TRANSPORT_DISC_NO_MORE_AUTH_METHODS,
	    "wrong key: client gives up with NO_MORE_AUTH_METHODS");
	pair_free(&c, &s);

	/* Password. */
	memset(&su, 0, sizeof(su));
	memset(&pol, 0, sizeof(pol));
	pol.good_password = "sesame";
	pol.client_password = "sesame";
	ok(run_auth(&su, &pol, &c, &s) &&
	    strcmp(auth_client_method(c.ac), "password") == 0,
	    "password accepted");
	pair_free(&c, &s);
	memset(&pol, 0, sizeof(pol));
	pol.good_password = "sesame";
	pol.client_password = "wrong";
	ok(!run_auth(&su, &pol, &c, &s) && pol.password_asked == 3 &&
	    s.failed_attempts == 3 && c.auth_err == FERR_AUTH_FAILED,
	    "wrong password: three tries, each a failed attempt");
	pair_free(&c, &s);

	/* Keyboard-interactive, two rounds. */
	memset(&pol, 0, sizeof(pol));
	su.client_kbdint = 1;
	pol.kbd_rounds = 2;
	ok(run_auth(&su, &pol, &c, &s) && pol.kbd_client_calls == 2 &&
	    strcmp(auth_client_method(c.ac), "keyboard-interactive") == 0,
	    "keyboard-interactive with two rounds accepted");
	ok(strcmp(pol.kbd_prompt_seen, "Code 1: ") == 0, "prompt reached client");
	pair_free(&c, &s);
	memset(&pol, 0, sizeof(pol));
	pol.kbd_rounds = 1;
	pol.kbd_answer = "nope";
	ok(!run_auth(&su, &pol, &c, &s) && pol.kbd_client_calls == 3 &&
	    s.failed_attempts == 3, "keyboard-interactive wrong answers fail");
	pair_free(&c, &s);

	/* none only: the client learns the list and has nothing. */
	memset(&su, 0, sizeof(su));
	memset(&pol, 0, sizeof(pol));
	ok(!run_auth(&su, &pol, &c, &s) && c.auth_err == FERR_AUTH_FAILED &&
	    auth_server_failures(s.as) == 0,
	    "none is refused without counting a failure");
	pair_free(&c, &s);
}

static void
test_chains(void)
{
	struct peer c, s;
	struct policy pol;
	struct setup su;
	struct key *keys[1] = { k_ed };

	memset(&su, 0, sizeof(su));
	su.server_methods = "publickey,password publickey,keyboard-interactive";
	su.keys = keys;
	su.nkeys = 1;
	memset(&pol, 0, sizeof(pol));
	pol.allowed[pol.nallowed++] = k_ed;
	pol.good_password = "pw";
	pol.client_password = "pw";
	ok(run_auth(&su, &pol, &c, &s) &&
	    strcmp(auth_server_methods_done(s.as), "publickey,password") == 0,
	    "chain publickey,password completed");
	pair_free(&c, &s);

	memset(&pol, 0, sizeof(pol));
	pol.allowed[pol.nallowed++] = k_ed;
	su.client_kbdint = 1;
	pol.kbd_rounds = 1;
	ok(run_auth(&su, &pol, &c, &s) &&
	    strcmp(auth_server_methods_done(s.as),
	    "publickey,keyboard-interactive") == 0,
	    "second chain publickey,keyboard-interactive completed");
	pair_free(&c, &s);

	/* Only the first step: partial success is not success. */
	memset(&pol, 0, sizeof(pol));
	pol.allowed[pol.nallowed++] = k_ed;
	su.client_kbdint = 0;
	ok(!run_auth(&su, &pol, &c, &s) && c.auth_err == FERR_AUTH_FAILED,
	    "publickey alone does not complete a chain");
	pair_free(&c, &s);

	/* Order matters: password first is not accepted. */
	su.server_methods = "publickey,password";
	su.nkeys = 0;
	memset(&pol, 0, sizeof(pol));
	pol.good_password = "pw";
	pol.client_password = "pw";
	ok(!run_auth(&su, &pol, &c, &s) && pol.password_asked == 0,
	    "password is not offered before publickey in the chain");
	pair_free(&c, &s);

	is_int(auth_methods_valid("publickey,password publickey"), 0,
	    "valid AuthenticationMethods");
	is_int(auth_methods_valid("publickey,bogus"), FERR_CONFIG,
	    "unknown method refused");
	is_int(auth_methods_valid("publickey,"), FERR_CONFIG,
	    "trailing comma refused");
	is_int(auth_methods_valid("none"), FERR_CONFIG, "none in a chain refused");
	is_int(auth_methods_valid("any"), 0, "any is valid");
}

/*
 * auth_client_pipeline: the first request goes before SERVICE_ACCEPT,
 * publickey without the none probe, and every fallback still works.
 */
static void
test_pipeline(void)
{
	struct peer c, s;
	struct policy pol;
	struct setup su;
	struct key *keys[2] = { k_ed, NULL };

	memset(&su, 0, sizeof(su));
	su.pipeline = 1;
	su.keys = keys;
	su.nkeys = 1;
	memset(&pol, 0, sizeof(pol));
	pol.allowed[pol.nallowed++] = k_ed;
	ok(run_auth(&su, &pol, &c, &s) && early_sent == 1 &&
	    pol.pubkey_asked == 1,
	    "pipelined: one signed publickey request before SERVICE_ACCEPT");
	pair_free(&c, &s);

	/* A key that is not ready (encrypted) is queried first. */
	su.key_ready = cli_key_ready;
	ready_answer = 0;
	memset(&pol, 0, sizeof(pol));
	pol.allowed[pol.nallowed++] = k_ed;
	ok(run_auth(&su, &pol, &c, &s) && early_sent == 1 &&
	    pol.pubkey_asked == 2,
	    "pipelined: a key that needs a prompt is queried, then signed");
	pair_free(&c, &s);
	ready_answer = 1;

	/* An agent key (a signing callback) that is ready: signed at once. */
	if (key_demote(k_ec, &keys[1]) != 0)
		abort();
	keys[0] = keys[1];
	su.sign = agent_sign;
	agent_signs = 0;
	memset(&pol, 0, sizeof(pol));
	pol.allowed[pol.nallowed++] = k_ec;
	ok(run_auth(&su, &pol, &c, &s) && early_sent == 1 &&
	    agent_signs == 1 && pol.pubkey_asked == 1,
	    "pipelined: a ready agent key is signed without a query");
	pair_free(&c, &s);
	/* An agent that refuses to sign: none, then the methods listed. */
	su.server_methods = NULL;
	pol.allowed[0] = k_ec;
	{
		struct key *other = NULL;

		if (key_demote(k_other, &other) != 0)
			abort();
		keys[0] = other;
		memset(&pol, 0, sizeof(pol));
		pol.good_password = "pw";
		pol.client_password = "pw";
		ok(run_auth(&su, &pol, &c, &s) && early_sent == 1 &&
		    strcmp(auth_client_method(c.ac), "password") == 0,
		    "pipelined: a key the agent cannot sign falls back");
		pair_free(&c, &s);
		key_free(other);
	}
	key_free(keys[1]);
	su.sign = NULL;
	su.key_ready = NULL;

	/* RSA: the signature algorithm server-sig-algs allows. */
	keys[0] = k_rsa;
	su.server_sig_algs = "ssh-ed25519,rsa-sha2-256";
	su.pubkey_algs = "rsa-sha2-256";
	memset(&pol, 0, sizeof(pol));
	pol.allowed[pol.nallowed++] = k_rsa;
	ok(run_auth(&su, &pol, &c, &s) && early_sent == 1 &&
	    pol.pubkey_asked == 1,
	    "pipelined: RSA signed with rsa-sha2-256 from EXT_INFO");
	pair_free(&c, &s);
	su.server_sig_algs = NULL;
	su.pubkey_algs = NULL;

	/* A server without publickey: password after the failure. */
	keys[0] = k_ed;
	su.no_pubkey = 1;
	memset(&pol, 0, sizeof(pol));
	pol.good_password = "pw";
	pol.client_password = "pw";
	ok(run_auth(&su, &pol, &c, &s) && early_sent == 1 &&
	    strcmp(auth_client_method(c.ac), "password") == 0,
	    "pipelined: password when the server lists no publickey");
	pair_free(&c, &s);
	su.no_pubkey = 0;

	/* A refused key and then nothing else: none last, then failure. */
	memset(&pol, 0, sizeof(pol));
	ok(!run_auth(&su, &pol, &c, &s) && c.auth_err == FERR_AUTH_FAILED &&
	    pol.pubkey_asked == 1 && c.disconnected == 0,
	    "pipelined: a refused key ends in failure after none");
	pair_free(&c, &s);

	/* Partial success and a banner. */
	su.server_methods = "publickey,password";
	su.banner = "Hello\n";
	memset(&pol, 0, sizeof(pol));
	pol.allowed[pol.nallowed++] = k_ed;
	pol.good_password = "pw";
	pol.client_password = "pw";
	ok(run_auth(&su, &pol, &c, &s) && early_sent == 1 &&
	    strcmp(auth_server_methods_done(s.as), "publickey,password") == 0 &&
	    strcmp(pol.banner, "Hello\n") == 0,
	    "pipelined: partial success then password, banner shown");
	pair_free(&c, &s);
	su.server_methods = NULL;
	su.banner = NULL;

	/* No keys: none goes early; password follows its answer. */
	su.nkeys = 0;
	memset(&pol, 0, sizeof(pol));
	pol.good_password = "pw";
	pol.client_password = "pw";
	ok(run_auth(&su, &pol, &c, &s) && early_sent == 1 &&
	    strcmp(auth_client_method(c.ac), "password") == 0,
	    "pipelined: none early without keys, then password");
	pair_free(&c, &s);
}

static void
test_max_tries_banner(void)
{
	struct peer c, s;
	struct policy pol;
	struct setup su;

	memset(&su, 0, sizeof(su));
	su.password_tries = 20;
	memset(&pol, 0, sizeof(pol));
	pol.good_password = "right";
	pol.client_password = "wrong";
	ok(!run_auth(&su, &pol, &c, &s) && pol.password_asked == 6 &&
	    s.failed_attempts == 5 && s.auth_err == FERR_AUTH_FAILED &&
	    c.disconnected && c.reason == TRANSPORT_DISC_NO_MORE_AUTH_METHODS,
	    "default MaxAuthTries 6 ends in a disconnect");
	pair_free(&c, &s);
	su.max_tries = 2;
	memset(&pol, 0, sizeof(pol));
	pol.good_password = "right";
	pol.client_password = "wrong";
	ok(!run_auth(&su, &pol, &c, &s) && pol.password_asked == 2 &&
	    auth_server_failures(s.as) == 2, "max_tries 2 honoured");
	pair_free(&c, &s);

	su.max_tries = 0;
	su.banner = "Welcome\x1b[31m\r\nto \xc3\xa9t\xc3\xa9\x07 \xc2\x9b!\n";
	memset(&pol, 0, sizeof(pol));
	pol.good_password = "pw";
	pol.client_password = "pw";
	ok(run_auth(&su, &pol, &c, &s), "login with a banner");
	is_int(strcmp(pol.banner, "Welcome?[31m\nto \xc3\xa9t\xc3\xa9? ?" "?!\n"),
	    0, "banner sanitised for display");
	pair_free(&c, &s);
}

static void
test_sanitise(void)
{
	static const struct {
		const char *in;
		const char *out;
	} v[] = {
		{ "plain text", "plain text" },
		{ "a\tb\nc", "a\tb\nc" },
		{ "cr\r\nlf\rx", "cr\nlf?x" },
		{ "\xe2\x82\xac euro", "\xe2\x82\xac euro" },
		{ "\xc0\xaf overlong", "?? overlong" },
		{ "\xed\xa0\x80 surrogate", "??? surrogate" },
		{ "\xf4\x90\x80\x80 big", "???? big" },
		{ "cut \xe2\x82", "cut ??" },
		{ "\x7f del", "? del" },
	};
	size_t i;
	char *s;
	int bad = 0;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		s = auth_sanitise((const uint8_t *)v[i].in, strlen(v[i].in));
		if (s == NULL || strcmp(s, v[i].out) != 0) {
			tap_diag("sanitise %zu: '%s'", i, s ? s : "(null)");
			bad++;
		}
		free(s);
	}
	is_int(bad, 0, "auth_sanitise vectors");
}

/* ---- hostile clients: a raw client after the key exchange ---- */

static struct policy hpol;

static void
hostile_server(struct peer *c, struct peer *s, const char *methods)
{
	struct auth_server_config sc;

	pair_init(c, s, NULL);
	memset(&sc, 0, sizeof(sc));
	sc.methods = methods;
	sc.pubkey_allowed = pol_pubkey;
	sc.password = pol_password;
	sc.kbdint = pol_kbdint;
	sc.ctx = &hpol;
	memset(&hpol, 0, sizeof(hpol));
	hpol.allowed[hpol.nallowed++] = k_ed;
	hpol.kbd_rounds = 1;
	if (auth_server_new(s->t, &sc, &s->as) != 0)
		abort();
	c->raw = (peer_packet_fn *)NULL;
	pair_pump(c, s);
}

/* The raw client records messages; it never answers. */
static void
raw_record(struct peer *p, uint8_t msg, struct buf *m)
{
	(void)p;
	(void)msg;
	(void)m;
}

static void
send_str(struct peer *p, uint8_t msg, const char *s)
{
	struct buf *b = buf_new();

	if (b == NULL || buf_put_cstring(b, s) != 0 || peer_send_raw(p, msg, b) != 0)
		abort();
	buf_free(b);
}

static struct buf *
req_head(const char *user, const char *method)
{
	struct buf *b = buf_new();

	if (b == NULL || buf_put_cstring(b, user) != 0 ||
	    buf_put_cstring(b, "ssh-connection") != 0 ||
	    buf_put_cstring(b, method) != 0)
		abort();
	return b;
}

/* A publickey request for key blob_key signed by sig_key over sid. */
static void
send_pk_signed(struct peer *c, const struct key *blob_key,
    const struct key *sig_key, const uint8_t *sid, size_t sidlen)
{
	struct buf *b = req_head("alice", "publickey"), *blob = buf_new();
	struct buf *data = buf_new(), *sig = buf_new();
	const char *alg = key_sig_alg_default(blob_key);

	if (blob == NULL || data == NULL || sig == NULL ||
	    key_to_blob(blob_key, blob) != 0 ||
	    auth_sign_data(data, sid, sidlen, "alice", "ssh-connection", alg,
	    buf_ptr(blob), buf_len(blob)) != 0 ||
	    key_sign(sig_key, key_sig_alg_default(sig_key), buf_ptr(data),
	    buf_len(data), 0, sig) != 0 ||
	    buf_put_bool(b, 1) != 0 || buf_put_cstring(b, alg) != 0 ||
	    buf_put_stringb(b, blob) != 0 || buf_put_stringb(b, sig) != 0 ||
	    peer_send_raw(c, AUTH_MSG_REQUEST, b) != 0)
		abort();
	buf_free(b);
	buf_free(blob);
	buf_free(data);
	buf_free(sig);
}

static void
test_hostile_clients(void)
{
	struct peer c, s;
	struct buf *b;
	const uint8_t *sid;
	uint8_t badsid[32];
	size_t sidlen;
	struct key *same_type;

	/* USERAUTH_SUCCESS sent by the client. */
	hostile_server(&c, &s, NULL);
	c.raw = raw_record;
	send_str(&c, TRANSPORT_MSG_SERVICE_REQUEST, "ssh-userauth");
	pair_pump(&c, &s);
	ok(c.last_msg == TRANSPORT_MSG_SERVICE_ACCEPT, "service accepted");
	if (peer_send_raw(&c, AUTH_MSG_SUCCESS, NULL) != 0)
		abort();
	pair_pump(&c, &s);
	ok(s.auth_err == FERR_PROTOCOL && !s.authed && c.disconnected &&
	    c.reason == TRANSPORT_DISC_PROTOCOL_ERROR,
	    "USERAUTH_SUCCESS from a client ends the connection");
	pair_free(&c, &s);

	/* CHANNEL_OPEN and exec before authentication. */
	hostile_server(&c, &s, NULL);
	c.raw = raw_record;
	send_str(&c, TRANSPORT_MSG_SERVICE_REQUEST, "ssh-userauth");
	b = buf_new();
	if (b == NULL || buf_put_cstring(b, "session") != 0 ||
	    buf_put_u32(b, 0) != 0 || buf_put_u32(b, 65536) != 0 ||
	    buf_put_u32(b, 32768) != 0 ||
	    peer_send_raw(&c, CONN_MSG_CHANNEL_OPEN, b) != 0)
		abort();
	buf_reset(b);
	if (buf_put_u32(b, 0) != 0 || buf_put_cstring(b, "exec") != 0 ||
	    buf_put_bool(b, 1) != 0 || buf_put_cstring(b, "touch /tmp/x") != 0 ||
	    peer_send_raw(&c, CONN_MSG_CHANNEL_REQUEST, b) != 0)
		abort();
	buf_free(b);
	pair_pump(&c, &s);
	ok(s.auth_err == FERR_PROTOCOL && !s.authed && s.conn == NULL &&
	    c.disconnected, "CHANNEL_OPEN before authentication disconnects");
	pair_free(&c, &s);

	/* A global request before authentication. */
	hostile_server(&c, &s, NULL);
	c.raw = raw_record;
	send_str(&c, TRANSPORT_MSG_SERVICE_REQUEST, "ssh-userauth");
	b = buf_new();
	if (b == NULL || buf_put_cstring(b, "keepalive@openssh.com") != 0 ||
	    buf_put_bool(b, 1) != 0 ||
	    peer_send_raw(&c, CONN_MSG_GLOBAL_REQUEST, b) != 0)
		abort();
	buf_free(b);
	pair_pump(&c, &s);
	ok(s.auth_err == FERR_PROTOCOL && c.disconnected,
	    "GLOBAL_REQUEST before authentication disconnects");
	pair_free(&c, &s);

	/* USERAUTH_REQUEST before the service request. */
	hostile_server(&c, &s, NULL);
	c.raw = raw_record;
	b = req_head("alice", "none");
	if (peer_send_raw(&c, AUTH_MSG_REQUEST, b) != 0)
		abort();
	buf_free(b);
	pair_pump(&c, &s);
	ok(s.auth_err == FERR_PROTOCOL && c.disconnected,
	    "USERAUTH_REQUEST without SERVICE_REQUEST disconnects");
	pair_free(&c, &s);

	/* Signature by another key than the one in the request. */
	hostile_server(&c, &s, NULL);
	c.raw = raw_record;
	send_str(&c, TRANSPORT_MSG_SERVICE_REQUEST, "ssh-userauth");
	sid = transport_session_id(c.t, &sidlen);
	send_pk_signed(&c, k_ed, k_other, sid, sidlen);
	pair_pump(&c, &s);
	ok(!s.authed && c.last_msg == AUTH_MSG_FAILURE &&
	    asked_about(&hpol, k_ed) &&
	    auth_server_failures(s.as) == 1,
	    "signature by a different key is refused");
	/* The right key, the right session: accepted (the control case). */
	send_pk_signed(&c, k_ed, k_ed, sid, sidlen);
	pair_pump(&c, &s);
	ok(s.authed && c.last_msg == AUTH_MSG_SUCCESS,
	    "the same request signed by the allowed key succeeds");
	pair_free(&c, &s);

	/* Another key of the same type signing: still refused. */
	hostile_server(&c, &s, NULL);
	c.raw = raw_record;
	if (key_generate(KEY_ED25519, 0, &same_type) != 0)
		abort();
	send_str(&c, TRANSPORT_MSG_SERVICE_REQUEST, "ssh-userauth");
	sid = transport_session_id(c.t, &sidlen);
	send_pk_signed(&c, k_ed, same_type, sid, sidlen);
	/* A key the policy refuses, properly signed, asks about that key. */
	send_pk_signed(&c, same_type, same_type, sid, sidlen);
	pair_pump(&c, &s);
	ok(!s.authed && auth_server_failures(s.as) == 2 &&
	    asked_about(&hpol, same_type),
	    "policy is asked about the key in the request");
	key_free(same_type);
	pair_free(&c, &s);

	/* Signature over the wrong session id. */
	hostile_server(&c, &s, NULL);
	c.raw = raw_record;
	send_str(&c, TRANSPORT_MSG_SERVICE_REQUEST, "ssh-userauth");
	sid = transport_session_id(c.t, &sidlen);
	memcpy(badsid, sid, sizeof(badsid));
	badsid[0] ^= 1;
	send_pk_signed(&c, k_ed, k_ed, badsid, sizeof(badsid));
	pair_pump(&c, &s);
	ok(!s.authed && c.last_msg == AUTH_MSG_FAILURE,
	    "signature over another session id is refused");
	pair_free(&c, &s);

	/* keyboard-interactive: 0xFFFFFFFF responses. */
	hostile_server(&c, &s, NULL);
	c.raw = raw_record;
	send_str(&c, TRANSPORT_MSG_SERVICE_REQUEST, "ssh-userauth");
	b = req_head("alice", "keyboard-interactive");
	if (buf_put_cstring(b, "") != 0 || buf_put_cstring(b, "") != 0 ||
	    peer_send_raw(&c, AUTH_MSG_REQUEST, b) != 0)
		abort();
	pair_pump(&c, &s);
	ok(c.last_msg == AUTH_MSG_PK_OK, "INFO_REQUEST sent");
	buf_reset(b);
	if (buf_put_u32(b, 0xffffffffU) != 0 || buf_put_cstring(b, "x") != 0 ||
	    peer_send_raw(&c, AUTH_MSG_INFO_RESPONSE, b) != 0)
		abort();
	buf_free(b);
	pair_pump(&c, &s);
	ok(!s.authed && s.auth_err == FERR_PROTOCOL && c.disconnected,
	    "INFO_RESPONSE with 0xFFFFFFFF responses disconnects");
	pair_free(&c, &s);

	/* INFO_RESPONSE nobody asked for. */
	hostile_server(&c, &s, NULL);
	c.raw = raw_record;
	send_str(&c, TRANSPORT_MSG_SERVICE_REQUEST, "ssh-userauth");
	b = buf_new();
	if (b == NULL || buf_put_u32(b, 0) != 0 ||
	    peer_send_raw(&c, AUTH_MSG_INFO_RESPONSE, b) != 0)
		abort();
	buf_free(b);
	pair_pump(&c, &s);
	ok(s.auth_err == FERR_PROTOCOL && c.disconnected,
	    "unsolicited INFO_RESPONSE disconnects");
	pair_free(&c, &s);

	/* Changing the user name. */
	hostile_server(&c, &s, NULL);
	c.raw = raw_record;
	send_str(&c, TRANSPORT_MSG_SERVICE_REQUEST, "ssh-userauth");
	b = req_head("alice", "none");
	if (peer_send_raw(&c, AUTH_MSG_REQUEST, b) != 0)
		abort();
	buf_free(b);
	b = req_head("root", "none");
	if (peer_send_raw(&c, AUTH_MSG_REQUEST, b) != 0)
		abort();
	buf_free(b);
	pair_pump(&c, &s);
	ok(s.auth_err == FERR_PROTOCOL && c.disconnected,
	    "a change of user name disconnects");
	pair_free(&c, &s);

	/* A method not in the chain counts as a failure, and no more. */
	hostile_server(&c, &s, "publickey,password");
	c.raw = raw_record;
	send_str(&c, TRANSPORT_MSG_SERVICE_REQUEST, "ssh-userauth");
	hpol.good_password = "pw";
	b = req_head("alice", "password");
	if (buf_put_bool(b, 0) != 0 || buf_put_cstring(b, "pw") != 0 ||
	    peer_send_raw(&c, AUTH_MSG_REQUEST, b) != 0)
		abort();
	buf_free(b);
	pair_pump(&c, &s);
	ok(!s.authed && c.last_msg == AUTH_MSG_FAILURE &&
	    auth_server_failures(s.as) == 1,
	    "the right password out of chain order fails");
	pair_free(&c, &s);
}

/* ---- hostile servers ---- */

static int hostile_kind;

static void
raw_server(struct peer *s, uint8_t msg, struct buf *m)
{
	struct buf *b = buf_new();
	uint32_t i;

	(void)m;
	if (b == NULL)
		abort();
	if (msg == TRANSPORT_MSG_SERVICE_REQUEST && hostile_kind == 3) {
		if (peer_send_raw(s, AUTH_MSG_SUCCESS, NULL) != 0)
			abort();
	} else if (msg == TRANSPORT_MSG_SERVICE_REQUEST) {
		if (buf_put_cstring(b, "ssh-userauth") != 0 ||
		    peer_send_raw(s, TRANSPORT_MSG_SERVICE_ACCEPT, b) != 0)
			abort();
	} else if (msg == AUTH_MSG_REQUEST && s->packets == 2) {
		if (buf_put_cstring(b, "keyboard-interactive") != 0 ||
		    buf_put_bool(b, 0) != 0 ||
		    peer_send_raw(s, AUTH_MSG_FAILURE, b) != 0)
			abort();
	} else if (msg == AUTH_MSG_REQUEST) {
		if (buf_put_cstring(b, "name") != 0 ||
		    buf_put_cstring(b, "instr") != 0 ||
		    buf_put_cstring(b, "") != 0 ||
		    buf_put_u32(b, hostile_kind == 0 ? 0xffffffffU : 3) != 0)
			abort();
		for (i = 0; i < 3; i++)
			if (buf_put_cstring(b, "prompt") != 0 ||
			    buf_put_bool(b, 0) != 0)
				abort();
		if (hostile_kind == 2 && buf_put_u8(b, 0) != 0)
			abort();
		if (peer_send_raw(s, AUTH_MSG_PK_OK, b) != 0)
			abort();
	}
	buf_free(b);
}

static void
test_hostile_servers(void)
{
	struct peer c, s;
	struct policy pol;
	struct auth_client_config cc;
	int kind;

	for (kind = 0; kind < 4; kind++) {
		hostile_kind = kind;
		pair_init(&c, &s, NULL);
		memset(&pol, 0, sizeof(pol));
		memset(&cc, 0, sizeof(cc));
		cc.user = "alice";
		cc.kbdint = cli_kbdint;
		cc.ctx = &pol;
		s.raw = raw_server;
		if (auth_client_new(c.t, &cc, &c.ac) != 0 ||
		    auth_client_start(c.ac) != 0)
			abort();
		pair_pump(&c, &s);
		if (kind == 0)
			ok(c.auth_err < 0 && s.disconnected &&
			    pol.kbd_client_calls == 0,
			    "INFO_REQUEST with 0xFFFFFFFF prompts refused");
		else if (kind == 1)
			ok(c.auth_err == 0 && pol.kbd_client_calls == 1 &&
			    s.last_msg == AUTH_MSG_INFO_RESPONSE,
			    "a sane INFO_REQUEST is answered");
		else if (kind == 3)
			ok(c.auth_err == FERR_PROTOCOL && !c.authed &&
			    s.disconnected,
			    "USERAUTH_SUCCESS before SERVICE_ACCEPT refused");
		else
			ok(c.auth_err < 0 && s.disconnected &&
			    pol.kbd_client_calls == 0,
			    "INFO_REQUEST with trailing data refused");
		pair_free(&c, &s);
	}
}

int
main(void)
{
	if (key_generate(KEY_ED25519, 0, &k_ed) != 0 ||
	    key_generate(KEY_ECDSA_P256, 0, &k_ec) != 0 ||
	    key_generate(KEY_RSA, 2048, &k_rsa) != 0 ||
	    key_generate(KEY_ED25519, 0, &k_other) != 0)
		abort();
	test_sanitise();
	test_methods();
	test_chains();
	test_max_tries_banner();
	test_pipeline();
	test_hostile_clients();
	test_hostile_servers();
	key_free(k_ed);
	key_free(k_ec);
	key_free(k_rsa);
	key_free(k_other);
	key_free(pair_hostkey);
	return tap_done();
}
