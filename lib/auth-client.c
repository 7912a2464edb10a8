/*
 * The client side of user authentication (RFC 4252, RFC 4256): the
 * service request, then none to learn the server's methods, then the
 * configured methods in order of preference among those the server
 * lists: publickey (query, then signature), keyboard-interactive and
 * password.  See ferry/auth.h for the contract.
 *
 * Fewer round trips (auth_client_pipeline): the first request follows
 * the service request without waiting for SERVICE_ACCEPT, and when
 * publickey comes first it replaces the "none" probe (signed at once
 * for a key that needs no passphrase).  "none" is then tried last,
 * should every method the server lists fail, so a server that lets
 * "none" in still does.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "auth-int.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/log.h"
#include "ferry/transport.h"
#include "misc.h"

#define AUTH_CLIENT_METHODS_DEFAULT "publickey,keyboard-interactive,password"
#define AUTH_CLIENT_TRIES_DEFAULT 3

enum auth_client_state {
	AUTH_CLIENT_INIT = 0,
	AUTH_CLIENT_WAIT_ACCEPT,
	AUTH_CLIENT_WAIT_RESPONSE,
	AUTH_CLIENT_DONE,
};

struct auth_client {
	struct transport *t;
	char *user, *service;
	int order[AUTH_METHOD_COUNT];
	size_t norder;
	struct key *const *keys;
	size_t nkeys;
	auth_sign_fn *sign;
	auth_key_ready_fn *key_ready;
	int sign_failed;		/* the last signature could not be made */
	int allow_ssh_rsa;
	auth_password_fn *password;
	auth_kbdint_client_fn *kbdint;
	auth_banner_fn *banner;
	void *ctx;
	unsigned int tries, password_count, kbdint_count;

	enum auth_client_state state;
	int early;			/* sent before SERVICE_ACCEPT */
	int tried_none;			/* "none" was sent */
	int current;			/* method of the request in flight */
	size_t key_idx;			/* key of the publickey in flight */
	int pk_signed;			/* it carried a signature */
	const char *pk_alg;
	char *server_methods;		/* from the last FAILURE */
	const char *success_method;
};

int
auth_client_new(struct transport *t, const struct auth_client_config *cfg,
    struct auth_client **ap)
{
	struct auth_client *a;
	const char *p, *e, *list;
	size_t n, i;
	int m, r = FERR_CONFIG;

	*ap = NULL;
	if (cfg->user == NULL)
		return FERR_ARGUMENT;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return FERR_ALLOC;
	a->t = t;
	a->keys = cfg->keys;
	a->nkeys = cfg->nkeys;
	a->sign = cfg->sign;
	a->key_ready = cfg->key_ready;
	a->allow_ssh_rsa = cfg->allow_ssh_rsa;
	a->password = cfg->password;
	a->kbdint = cfg->kbdint;
	a->banner = cfg->banner;
	a->ctx = cfg->ctx;
	a->tries = cfg->password_tries != 0 ? cfg->password_tries :
	    AUTH_CLIENT_TRIES_DEFAULT;
	list = cfg->methods != NULL ? cfg->methods :
	    AUTH_CLIENT_METHODS_DEFAULT;
	for (p = list; *p != '\0'; p += n + (p[n] == ',')) {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		m = auth_method_lookup((const uint8_t *)p, n);
		if (m <= AUTH_METHOD_NONE)
			goto fail;
		for (i = 0; i < a->norder; i++)
			if (a->order[i] == m)
				goto fail;
		a->order[a->norder++] = m;
	}
	r = FERR_ALLOC;
	if ((a->user = strdup(cfg->user)) == NULL ||
	    (a->service = strdup(cfg->service != NULL ? cfg->service :
	    AUTH_SERVICE_DEFAULT)) == NULL)
		goto fail;
	*ap = a;
	return 0;
 fail:
	auth_client_free(a);
	return r;
}

void
auth_client_free(struct auth_client *a)
{
	if (a == NULL)
		return;
	free(a->user);
	free(a->service);
	free(a->server_methods);
	free(a);
}

const char *
auth_client_method(const struct auth_client *a)
{
	return a->success_method;
}

static int
auth_client_fail(struct auth_client *a, int r, uint32_t reason,
    const char *why)
{
	log_verbose("auth: %s", why);
	if (transport_disconnect(a->t, reason, why) != 0)
		log_debug("auth: transport already closed");
	return r < 0 ? r : FERR_PROTOCOL;
}

int
auth_client_start(struct auth_client *a)
{
	struct buf *p;
	int r;

	if (a->state != AUTH_CLIENT_INIT)
		return FERR_ARGUMENT;
	if ((r = transport_packet_start(a->t, TRANSPORT_MSG_SERVICE_REQUEST,
	    &p)) != 0 ||
	    (r = buf_put_cstring(p, AUTH_SERVICE_USERAUTH)) != 0 ||
	    (r = transport_send(a->t)) != 0)
		return r;
	a->state = AUTH_CLIENT_WAIT_ACCEPT;
	return 0;
}

/* Start a USERAUTH_REQUEST for method m: user, service, method name. */
static int
auth_client_request_start(struct auth_client *a, int m, struct buf **pp)
{
	int r;

	if ((r = transport_packet_start(a->t, AUTH_MSG_REQUEST, pp)) != 0 ||
	    (r = buf_put_cstring(*pp, a->user)) != 0 ||
	    (r = buf_put_cstring(*pp, a->service)) != 0 ||
	    (r = buf_put_cstring(*pp, auth_method_name(m))) != 0)
		return r;
	a->current = m;
	if (m == AUTH_METHOD_NONE)
		a->tried_none = 1;
	return 0;
}

/*
 * The signature algorithm for key: the key type's own, and for RSA the
 * best rsa-sha2 the server lists in server-sig-algs.  NULL: unusable.
 */
static const char *
auth_client_key_alg(const struct auth_client *a, const struct key *key)
{
	static const char *const rsa_algs[] = {
		"rsa-sha2-512", "rsa-sha2-256",
	};
	const char *list;
	size_t i;

	if (key_get_type(key) != KEY_RSA)
		return key_sig_alg_default(key);
	if ((list = transport_server_sig_algs(a->t)) == NULL)
		return a->allow_ssh_rsa ? "ssh-rsa" : "rsa-sha2-512";
	for (i = 0; i < sizeof(rsa_algs) / sizeof(rsa_algs[0]); i++)
		if (auth_list_has(list, (const uint8_t *)rsa_algs[i],
		    strlen(rsa_algs[i])))
			return rsa_algs[i];
	if (a->allow_ssh_rsa &&
	    auth_list_has(list, (const uint8_t *)"ssh-rsa", 7))
		return "ssh-rsa";
	return NULL;
}

/* Send a publickey request for key a->key_idx, signed or as a query. */
static int
auth_client_send_publickey(struct auth_client *a, int sign)
{
	const struct key *key = a->keys[a->key_idx];
	struct buf *p, *blob = NULL, *data = NULL, *sig = NULL;
	const uint8_t *sid;
	size_t sidlen;
	int r;

	if ((blob = buf_new()) == NULL || (data = buf_new()) == NULL ||
	    (sig = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = key_to_blob(key, blob)) != 0)
		goto out;
	if (sign) {
		if ((sid = transport_session_id(a->t, &sidlen)) == NULL) {
			r = FERR_INTERNAL;
			goto out;
		}
		if ((r = auth_sign_data(data, sid, sidlen, a->user, a->service,
		    a->pk_alg, buf_ptr(blob), buf_len(blob))) != 0)
			goto out;
		if (a->sign != NULL)
			r = a->sign(key, a->pk_alg, buf_ptr(data),
			    buf_len(data), sig, a->ctx);
		else
			r = key_sign(key, a->pk_alg, buf_ptr(data),
			    buf_len(data), a->allow_ssh_rsa ?
			    KEY_SIG_ALLOW_SHA1 : 0, sig);
		if (r != 0) {
			a->sign_failed = 1;
			goto out;
		}
	}
	if ((r = auth_client_request_start(a, AUTH_METHOD_PUBLICKEY,
	    &p)) != 0 ||
	    (r = buf_put_bool(p, sign)) != 0 ||
	    (r = buf_put_cstring(p, a->pk_alg)) != 0 ||
	    (r = buf_put_stringb(p, blob)) != 0 ||
	    (sign && (r = buf_put_stringb(p, sig)) != 0) ||
	    (r = transport_send(a->t)) != 0)
		goto out;
	a->pk_signed = sign;
 out:
	buf_free(blob);
	buf_free(data);
	buf_free(sig);
	return r;
}

/* Try the next usable key from a->key_idx: 1 if a request went out. */
static int
auth_client_try_publickey(struct auth_client *a)
{
	const struct key *key;
	int r;

	for (; a->key_idx < a->nkeys; a->key_idx++) {
		key = a->keys[a->key_idx];
		if (a->sign == NULL && !key_is_private(key))
			continue;
		if ((a->pk_alg = auth_client_key_alg(a, key)) == NULL)
			continue;
		if ((r = auth_client_send_publickey(a, 0)) != 0)
			return r;
		return 1;
	}
	return 0;
}

static int
auth_client_try_password(struct auth_client *a)
{
	struct buf *p;
	char *pw = NULL;
	int r;

	while (a->password != NULL && a->password_count < a->tries) {
		if (a->password(a->user, a->password_count, &pw, a->ctx) != 0 ||
		    pw == NULL) {
			a->password_count = a->tries;
			break;
		}
		a->password_count++;
		if ((r = auth_client_request_start(a, AUTH_METHOD_PASSWORD,
		    &p)) == 0 &&
		    (r = buf_put_bool(p, 0)) == 0 &&
		    (r = buf_put_cstring(p, pw)) == 0)
			r = transport_send(a->t);
		auth_free_secret(pw);
		return r != 0 ? r : 1;
	}
	return 0;
}

static int
auth_client_try_kbdint(struct auth_client *a)
{
	struct buf *p;
	int r;

	if (a->kbdint == NULL || a->kbdint_count >= a->tries)
		return 0;
	a->kbdint_count++;
	if ((r = auth_client_request_start(a, AUTH_METHOD_KBDINT, &p)) != 0 ||
	    (r = buf_put_cstring(p, "")) != 0 ||
	    (r = buf_put_cstring(p, "")) != 0 ||
	    (r = transport_send(a->t)) != 0)
		return r;
	return 1;
}

/* Send the next request the server's list and our means allow. */
static int
auth_client_next(struct auth_client *a)
{
	struct buf *p;
	size_t i;
	const char *name;
	int m, r;

	for (i = 0; i < a->norder; i++) {
		m = a->order[i];
		name = auth_method_name(m);
		if (a->server_methods == NULL ||
		    !auth_list_has(a->server_methods, (const uint8_t *)name,
		    strlen(name)))
			continue;
		switch (m) {
		case AUTH_METHOD_PUBLICKEY:
			r = auth_client_try_publickey(a);
			break;
		case AUTH_METHOD_PASSWORD:
			r = auth_client_try_password(a);
			break;
		case AUTH_METHOD_KBDINT:
			r = auth_client_try_kbdint(a);
			break;
		default:
			r = 0;
			break;
		}
		if (r != 0)
			return r < 0 ? r : AUTH_CONTINUE;
	}
	/* The probe that was skipped, as the last resort. */
	if (!a->tried_none) {
		if ((r = auth_client_request_start(a, AUTH_METHOD_NONE,
		    &p)) != 0 || (r = transport_send(a->t)) != 0)
			return r;
		return AUTH_CONTINUE;
	}
	return auth_client_fail(a, FERR_AUTH_FAILED,
	    TRANSPORT_DISC_NO_MORE_AUTH_METHODS,
	    "no more authentication methods to try");
}

static int
auth_client_failure(struct auth_client *a, struct buf *m)
{
	char *list = NULL;
	int r, partial;

	if ((r = buf_get_namelist(m, &list)) != 0 ||
	    (r = buf_get_bool(m, &partial)) != 0 ||
	    (r = buf_expect_end(m)) != 0) {
		free(list);
		return auth_client_fail(a, r, TRANSPORT_DISC_PROTOCOL_ERROR,
		    "malformed USERAUTH_FAILURE");
	}
	free(a->server_methods);
	a->server_methods = list;
	if (partial)
		log_verbose("auth: partial success with %s; can continue: %s",
		    auth_method_name(a->current), list);
	/* A failed or partially successful key is not offered again. */
	if (a->current == AUTH_METHOD_PUBLICKEY)
		a->key_idx++;
	return auth_client_next(a);
}

static int
auth_client_pk_ok(struct auth_client *a, struct buf *m)
{
	struct buf *blob = NULL;
	char *alg = NULL;
	const uint8_t *b;
	size_t blen;
	int r;

	if ((r = buf_get_cstring(m, &alg, NULL)) != 0 ||
	    (r = buf_get_string_direct(m, &b, &blen)) != 0 ||
	    (r = buf_expect_end(m)) != 0) {
		r = auth_client_fail(a, r, TRANSPORT_DISC_PROTOCOL_ERROR,
		    "malformed USERAUTH_PK_OK");
		goto out;
	}
	if ((blob = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = key_to_blob(a->keys[a->key_idx], blob)) != 0)
		goto out;
	if (strcmp(alg, a->pk_alg) != 0 || buf_len(blob) != blen ||
	    memcmp(buf_ptr(blob), b, blen) != 0) {
		r = auth_client_fail(a, FERR_PROTOCOL,
		    TRANSPORT_DISC_PROTOCOL_ERROR,
		    "USERAUTH_PK_OK for another key");
		goto out;
	}
	a->sign_failed = 0;
	if ((r = auth_client_send_publickey(a, 1)) != 0 && a->sign_failed) {
		/*
		 * This key cannot sign (a wrong passphrase, an agent that
		 * refuses): go on with the next key or method, as OpenSSH does.
		 */
		log_verbose("auth: key %zu could not sign: %s", a->key_idx,
		    err_str(r));
		a->sign_failed = 0;
		a->key_idx++;
		r = auth_client_next(a);
	}
 out:
	free(alg);
	buf_free(blob);
	return r;
}

/* INFO_REQUEST (RFC 4256 3.2): ask the program, send INFO_RESPONSE. */
static int
auth_client_info_request(struct auth_client *a, struct buf *m)
{
	char *name = NULL, *instr = NULL, *prompts[AUTH_KBDINT_PROMPTS_MAX];
	char *resp[AUTH_KBDINT_PROMPTS_MAX];
	int echo[AUTH_KBDINT_PROMPTS_MAX];
	const uint8_t *s, *ns, *is;
	size_t len, nlen, ilen;
	struct buf *p;
	uint32_t n, i;
	int r;

	memset(prompts, 0, sizeof(prompts));
	memset(resp, 0, sizeof(resp));
	if ((r = buf_get_string_direct(m, &ns, &nlen)) != 0 ||
	    (r = buf_get_string_direct(m, &is, &ilen)) != 0 ||
	    (r = buf_get_string_direct(m, NULL, NULL)) != 0 ||
	    (r = buf_get_u32(m, &n)) != 0)
		goto bad;
	/* A count is checked before anything is sized by it. */
	if (n > AUTH_KBDINT_PROMPTS_MAX || nlen > AUTH_TEXT_MAX ||
	    ilen > AUTH_TEXT_MAX) {
		r = FERR_NUMBER_RANGE;
		goto bad;
	}
	for (i = 0; i < n; i++) {
		if ((r = buf_get_string_direct(m, &s, &len)) != 0 ||
		    (r = buf_get_bool(m, &echo[i])) != 0)
			goto bad;
		if (len > AUTH_TEXT_MAX) {
			r = FERR_STRING_TOO_LARGE;
			goto bad;
		}
		if ((prompts[i] = auth_sanitise(s, len)) == NULL) {
			r = FERR_ALLOC;
			goto out;
		}
	}
	if ((r = buf_expect_end(m)) != 0)
		goto bad;
	if ((name = auth_sanitise(ns, nlen)) == NULL ||
	    (instr = auth_sanitise(is, ilen)) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if (a->kbdint(name, instr, n, (const char *const *)prompts, echo, resp,
	    a->ctx) != 0) {
		/* Abandon the method: a new request ends the conversation. */
		a->kbdint_count = a->tries;
		r = auth_client_next(a);
		goto out;
	}
	if ((r = transport_packet_start(a->t, AUTH_MSG_INFO_RESPONSE,
	    &p)) != 0 ||
	    (r = buf_put_u32(p, n)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((r = buf_put_cstring(p, resp[i] != NULL ? resp[i] :
		    "")) != 0)
			goto out;
	r = transport_send(a->t);
	goto out;
 bad:
	r = auth_client_fail(a, r, TRANSPORT_DISC_PROTOCOL_ERROR,
	    "malformed INFO_REQUEST");
 out:
	for (i = 0; i < AUTH_KBDINT_PROMPTS_MAX; i++) {
		free(prompts[i]);
		auth_free_secret(resp[i]);
	}
	free(name);
	free(instr);
	return r;
}

static int
auth_client_banner(struct auth_client *a, struct buf *m)
{
	const uint8_t *s;
	size_t len;
	char *text;
	int r;

	if ((r = buf_get_string_direct(m, &s, &len)) != 0 ||
	    (r = buf_get_string_direct(m, NULL, NULL)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		return auth_client_fail(a, r, TRANSPORT_DISC_PROTOCOL_ERROR,
		    "malformed USERAUTH_BANNER");
	if (a->banner == NULL)
		return 0;
	if ((text = auth_sanitise(s, len)) == NULL)
		return FERR_ALLOC;
	a->banner(text, a->ctx);
	free(text);
	return 0;
}

/* Message 60 means what the method in flight makes it mean. */
static int
auth_client_msg60(struct auth_client *a, struct buf *m)
{
	switch (a->current) {
	case AUTH_METHOD_PUBLICKEY:
		if (!a->pk_signed)
			return auth_client_pk_ok(a, m);
		break;
	case AUTH_METHOD_KBDINT:
		return auth_client_info_request(a, m);
	case AUTH_METHOD_PASSWORD:
		/* PASSWD_CHANGEREQ: changing is not offered; move on. */
		log_verbose("auth: the server asks for a password change");
		a->password_count = a->tries;
		return auth_client_next(a);
	default:
		break;
	}
	return auth_client_fail(a, FERR_PROTOCOL, TRANSPORT_DISC_PROTOCOL_ERROR,
	    "unexpected message 60");
}

static int auth_client_first(struct auth_client *a, int may_wait);

static int
auth_client_service_accept(struct auth_client *a, struct buf *m)
{
	const uint8_t *s;
	size_t len;
	int r;

	if ((r = buf_get_string_direct(m, &s, &len)) != 0 ||
	    (r = buf_expect_end(m)) != 0 ||
	    len != strlen(AUTH_SERVICE_USERAUTH) ||
	    memcmp(s, AUTH_SERVICE_USERAUTH, len) != 0)
		return auth_client_fail(a, r, TRANSPORT_DISC_PROTOCOL_ERROR,
		    "bad SERVICE_ACCEPT");
	a->state = AUTH_CLIENT_WAIT_RESPONSE;
	if (a->early)
		return AUTH_CONTINUE;	/* its answer is on the way */
	if ((r = auth_client_first(a, 0)) < 0)
		return r;
	return AUTH_CONTINUE;
}

/*
 * The first key publickey would offer (from a->key_idx, which it
 * advances past unusable keys) with its algorithm in a->pk_alg: 1, or 0
 * when there is none, or with may_wait -1 to wait: an RSA key whose
 * algorithm depends on server-sig-algs that a server offering ext-info
 * has yet to send.
 */
static int
auth_client_first_key(struct auth_client *a, int may_wait)
{
	const struct key *key;

	for (; a->key_idx < a->nkeys; a->key_idx++) {
		key = a->keys[a->key_idx];
		if (a->sign == NULL && !key_is_private(key))
			continue;
		if (may_wait && key_get_type(key) == KEY_RSA &&
		    transport_server_sig_algs(a->t) == NULL &&
		    transport_peer_ext_info(a->t))
			return -1;
		if ((a->pk_alg = auth_client_key_alg(a, key)) != NULL)
			return 1;
	}
	return 0;
}

static int
auth_client_key_is_ready(const struct auth_client *a, const struct key *key)
{
	if (a->key_ready != NULL)
		return a->key_ready(key, a->ctx) != 0;
	return a->sign == NULL && key_is_private(key);
}

/*
 * The first request: publickey when it comes first and a key is there,
 * else "none", whose answer lists the methods that can continue.  With
 * may_wait, 0 when an RSA key must wait for server-sig-algs; else 1
 * when a request went out, or an error.
 */
static int
auth_client_first(struct auth_client *a, int may_wait)
{
	struct buf *p;
	int r, have = 0;

	if (a->norder > 0 && a->order[0] == AUTH_METHOD_PUBLICKEY) {
		have = auth_client_first_key(a, may_wait);
		if (have < 0)
			return 0;	/* ACCEPT comes after EXT_INFO */
	}
	if (have) {
		a->sign_failed = 0;
		r = auth_client_send_publickey(a,
		    auth_client_key_is_ready(a, a->keys[a->key_idx]));
		if (r == 0)
			return 1;
		if (!a->sign_failed)
			return r;
		log_verbose("auth: key %zu could not sign: %s", a->key_idx,
		    err_str(r));
		a->sign_failed = 0;
		a->key_idx++;
	}
	if ((r = auth_client_request_start(a, AUTH_METHOD_NONE, &p)) != 0 ||
	    (r = transport_send(a->t)) != 0)
		return r;
	return 1;
}

int
auth_client_pipeline(struct auth_client *a)
{
	int r;

	if (a->state != AUTH_CLIENT_WAIT_ACCEPT || a->early ||
	    !transport_is_open(a->t))
		return 0;
	if ((r = auth_client_first(a, 1)) == 1)
		a->early = 1;
	return r;
}

int
auth_client_input(struct auth_client *a, uint8_t msg, struct buf *payload)
{
	int r;

	switch (a->state) {
	case AUTH_CLIENT_WAIT_ACCEPT:
		if (msg == TRANSPORT_MSG_SERVICE_ACCEPT)
			return auth_client_service_accept(a, payload);
		break;
	case AUTH_CLIENT_WAIT_RESPONSE:
		switch (msg) {
		case AUTH_MSG_BANNER:
			return auth_client_banner(a, payload);
		case AUTH_MSG_FAILURE:
			return auth_client_failure(a, payload);
		case AUTH_MSG_PK_OK:
			return auth_client_msg60(a, payload);
		case AUTH_MSG_SUCCESS:
			if ((r = buf_expect_end(payload)) != 0)
				return auth_client_fail(a, r,
				    TRANSPORT_DISC_PROTOCOL_ERROR,
				    "malformed USERAUTH_SUCCESS");
			a->state = AUTH_CLIENT_DONE;
			a->success_method = auth_method_name(a->current);
			transport_auth_done(a->t);
			log_verbose("auth: authenticated with %s",
			    a->success_method);
			return AUTH_SUCCESS;
		default:
			break;
		}
		break;
	case AUTH_CLIENT_DONE:
		return FERR_ARGUMENT;
	default:
		break;
	}
	if (msg == AUTH_MSG_BANNER && a->state == AUTH_CLIENT_WAIT_ACCEPT)
		return auth_client_banner(a, payload);
	return auth_client_fail(a, FERR_PROTOCOL, TRANSPORT_DISC_PROTOCOL_ERROR,
	    "unexpected message during authentication");
}
