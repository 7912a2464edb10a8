/*
 * The server side of user authentication (RFC 4252, RFC 4256): service
 * acceptance, the none, publickey, password and keyboard-interactive
 * methods decided by the program's policy callbacks, partial success
 * along AuthenticationMethods chains, the banner and MaxAuthTries.  See
 * ferry/auth.h for the contract.
 *
 * Per-user settings: the program's user_first hook runs once, on the
 * first USERAUTH_REQUEST and before anything is answered, and may
 * replace the methods offered, the lists, the failure limit and the
 * signature algorithms with the user's (auth_server_set_user).  The
 * user name cannot change afterwards, so these settings hold for the
 * whole authentication.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "auth-int.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/key-cert.h"
#include "ferry/log.h"
#include "ferry/transport.h"
#include "misc.h"

/* One keyboard-interactive conversation. */
struct auth_kbdint {
	unsigned int round;
	char *name, *instruction;
	char *prompts[AUTH_KBDINT_PROMPTS_MAX];
	int echo[AUTH_KBDINT_PROMPTS_MAX];
	size_t nprompts;
	char *responses[AUTH_KBDINT_PROMPTS_MAX];
	size_t nresponses;
	int waiting;			/* an INFO_REQUEST is outstanding */
};

struct auth_server {
	struct transport *t;
	struct auth_chain chains[AUTH_CHAINS_MAX];
	size_t nchains;
	char *pubkey_algs;
	unsigned int sig_flags;
	unsigned int max_tries, failures;
	char *banner;
	int banner_sent;
	char *service;
	auth_pubkey_allowed_fn *pubkey_allowed;
	auth_cert_allowed_fn *cert_allowed;
	auth_password_check_fn *password;
	auth_kbdint_server_fn *kbdint;
	auth_server_user_fn *user_first;
	unsigned int enabled;		/* AUTH_SERVER_* of the methods offered */
	void *ctx;

	int service_ok;
	char *user;
	int done;
	struct auth_kbdint *kbd;
	struct key *used[AUTH_CHAIN_MAX];	/* keys that succeeded */
	size_t nused;
	struct buf *done_methods;
	char *done_str;
};

/* Outcomes of one method attempt. */
enum auth_outcome {
	AUTH_OUT_FAIL = 0,		/* counted failure */
	AUTH_OUT_FAIL_FREE,		/* failure not counted (none) */
	AUTH_OUT_OK,			/* the method succeeded */
	AUTH_OUT_PENDING,		/* PK_OK or INFO_REQUEST was sent */
};

static void
auth_kbdint_clear_prompts(struct auth_kbdint *k)
{
	size_t i;

	for (i = 0; i < k->nprompts; i++)
		free(k->prompts[i]);
	k->nprompts = 0;
	free(k->name);
	free(k->instruction);
	k->name = k->instruction = NULL;
}

static void
auth_kbdint_clear_responses(struct auth_kbdint *k)
{
	size_t i;

	for (i = 0; i < k->nresponses; i++)
		auth_free_secret(k->responses[i]);
	k->nresponses = 0;
}

static void
auth_kbdint_free(struct auth_kbdint *k)
{
	if (k == NULL)
		return;
	auth_kbdint_clear_prompts(k);
	auth_kbdint_clear_responses(k);
	free(k);
}

unsigned int
auth_kbdint_round(const struct auth_kbdint *conv)
{
	return conv->round;
}

size_t
auth_kbdint_nresponses(const struct auth_kbdint *conv)
{
	return conv->nresponses;
}

const char *
auth_kbdint_response(const struct auth_kbdint *conv, size_t i)
{
	return i < conv->nresponses ? conv->responses[i] : NULL;
}

int
auth_kbdint_set_text(struct auth_kbdint *conv, const char *name,
    const char *instruction)
{
	char *n, *ins;

	if ((n = strdup(name != NULL ? name : "")) == NULL)
		return FERR_ALLOC;
	if ((ins = strdup(instruction != NULL ? instruction : "")) == NULL) {
		free(n);
		return FERR_ALLOC;
	}
	free(conv->name);
	free(conv->instruction);
	conv->name = n;
	conv->instruction = ins;
	return 0;
}

int
auth_kbdint_add_prompt(struct auth_kbdint *conv, const char *prompt, int echo)
{
	if (conv->nprompts >= AUTH_KBDINT_PROMPTS_MAX)
		return FERR_NO_SPACE;
	if ((conv->prompts[conv->nprompts] = strdup(prompt)) == NULL)
		return FERR_ALLOC;
	conv->echo[conv->nprompts++] = echo != 0;
	return 0;
}

/* The AUTH_SERVER_* bit of each method that has one. */
static const struct {
	int m;
	unsigned int bit;
} auth_server_bits[] = {
	{ AUTH_METHOD_PUBLICKEY, AUTH_SERVER_PUBLICKEY },
	{ AUTH_METHOD_PASSWORD, AUTH_SERVER_PASSWORD },
	{ AUTH_METHOD_KBDINT, AUTH_SERVER_KBDINT },
};
#define AUTH_SERVER_ALL \
	(AUTH_SERVER_PUBLICKEY | AUTH_SERVER_PASSWORD | AUTH_SERVER_KBDINT)

/* Whether method m is offered: enabled and with a policy callback. */
static int
auth_server_enabled(const struct auth_server *a, int m)
{
	size_t i;
	int cb;

	switch (m) {
	case AUTH_METHOD_PUBLICKEY:
		cb = a->pubkey_allowed != NULL;
		break;
	case AUTH_METHOD_PASSWORD:
		cb = a->password != NULL;
		break;
	case AUTH_METHOD_KBDINT:
		cb = a->kbdint != NULL;
		break;
	default:
		return 0;
	}
	for (i = 0; i < sizeof(auth_server_bits) / sizeof(auth_server_bits[0]);
	    i++)
		if (auth_server_bits[i].m == m)
			return cb && (a->enabled & auth_server_bits[i].bit) != 0;
	return 0;
}

/* Whether m may be attempted now: enabled and next in some chain. */
static int
auth_server_allowed(const struct auth_server *a, int m)
{
	size_t i;

	if (!auth_server_enabled(a, m))
		return 0;
	if (a->nchains == 0)
		return 1;
	for (i = 0; i < a->nchains; i++)
		if (a->chains[i].m[a->chains[i].pos] == m)
			return 1;
	return 0;
}

int
auth_server_new(struct transport *t, const struct auth_server_config *cfg,
    struct auth_server **ap)
{
	struct auth_server *a;
	size_t i, j;
	int r, m, any = 0;

	*ap = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return FERR_ALLOC;
	a->t = t;
	a->pubkey_allowed = cfg->pubkey_allowed;
	a->cert_allowed = cfg->cert_allowed;
	a->password = cfg->password;
	a->kbdint = cfg->kbdint;
	a->user_first = cfg->user_first;
	a->enabled = AUTH_SERVER_ALL;
	a->ctx = cfg->ctx;
	a->max_tries = cfg->max_tries != 0 ? cfg->max_tries :
	    AUTH_MAX_TRIES_DEFAULT;
	if ((r = auth_chains_parse(cfg->methods, a->chains, &a->nchains)) != 0)
		goto fail;
	for (m = AUTH_METHOD_PUBLICKEY; m < AUTH_METHOD_COUNT; m++)
		any |= auth_server_enabled(a, m);
	r = FERR_CONFIG;
	if (!any)
		goto fail;
	/* Every method a chain names needs its callback. */
	for (i = 0; i < a->nchains; i++)
		for (j = 0; a->chains[i].m[j] >= 0; j++)
			if (!auth_server_enabled(a, a->chains[i].m[j]))
				goto fail;
	r = FERR_ALLOC;
	if ((a->pubkey_algs = strdup(cfg->pubkey_algs != NULL ?
	    cfg->pubkey_algs : AUTH_PUBKEY_ALGS_DEFAULT)) == NULL ||
	    (a->service = strdup(cfg->service != NULL ? cfg->service :
	    AUTH_SERVICE_DEFAULT)) == NULL ||
	    (cfg->banner != NULL &&
	    (a->banner = strdup(cfg->banner)) == NULL) ||
	    (a->done_methods = buf_new()) == NULL)
		goto fail;
	if (auth_list_has(a->pubkey_algs, (const uint8_t *)"ssh-rsa", 7))
		a->sig_flags = KEY_SIG_ALLOW_SHA1;
	*ap = a;
	return 0;
 fail:
	auth_server_free(a);
	return r;
}

void
auth_server_free(struct auth_server *a)
{
	size_t i;

	if (a == NULL)
		return;
	free(a->pubkey_algs);
	free(a->banner);
	free(a->service);
	free(a->user);
	auth_kbdint_free(a->kbd);
	for (i = 0; i < a->nused; i++)
		key_free(a->used[i]);
	buf_free(a->done_methods);
	free(a->done_str);
	free(a);
}

int
auth_server_set_user(struct auth_server *a, const struct auth_server_user *u)
{
	struct auth_chain chains[AUTH_CHAINS_MAX];
	unsigned int saved = a->enabled;
	size_t i, j, n, kept = 0;
	char *algs = NULL;
	int r;

	if (a->done || buf_len(a->done_methods) > 0)
		return FERR_ARGUMENT;
	if ((r = auth_chains_parse(u->methods, chains, &n)) != 0)
		return r;
	if (u->pubkey_algs != NULL && (algs = strdup(u->pubkey_algs)) == NULL)
		return FERR_ALLOC;
	/* Lists naming a method not offered can never complete: skipped. */
	a->enabled = u->enabled & AUTH_SERVER_ALL;
	for (i = 0; i < n; i++) {
		for (j = 0; chains[i].m[j] >= 0; j++)
			if (!auth_server_enabled(a, chains[i].m[j]))
				break;
		if (chains[i].m[j] >= 0) {
			log_verbose("auth: AuthenticationMethods list %zu "
			    "skipped: %s is not offered", i + 1,
			    auth_method_name(chains[i].m[j]));
			continue;
		}
		chains[kept++] = chains[i];
	}
	if (n > 0 && kept == 0) {
		a->enabled = saved;
		free(algs);
		return FERR_CONFIG;
	}
	memcpy(a->chains, chains, kept * sizeof(chains[0]));
	a->nchains = kept;
	a->max_tries = u->max_tries != 0 ? u->max_tries :
	    AUTH_MAX_TRIES_DEFAULT;
	if (algs != NULL) {
		free(a->pubkey_algs);
		a->pubkey_algs = algs;
		a->sig_flags = auth_list_has(a->pubkey_algs,
		    (const uint8_t *)"ssh-rsa", 7) ? KEY_SIG_ALLOW_SHA1 : 0;
	}
	return 0;
}

const char *
auth_server_user(const struct auth_server *a)
{
	return a->user;
}

unsigned int
auth_server_failures(const struct auth_server *a)
{
	return a->failures;
}

const char *
auth_server_methods_done(const struct auth_server *a)
{
	return a->done ? a->done_str : NULL;
}

/* Disconnect with a reason; returns the code r for the caller. */
static int
auth_server_fail(struct auth_server *a, int r, uint32_t reason,
    const char *why)
{
	log_verbose("auth: %s", why);
	if (transport_disconnect(a->t, reason, why) != 0)
		log_debug("auth: transport already closed");
	return r < 0 ? r : FERR_PROTOCOL;
}

static int
auth_server_send_banner(struct auth_server *a)
{
	struct buf *p;
	int r;

	if (a->banner == NULL || a->banner_sent)
		return 0;
	a->banner_sent = 1;
	if ((r = transport_packet_start(a->t, AUTH_MSG_BANNER, &p)) != 0 ||
	    (r = buf_put_cstring(p, a->banner)) != 0 ||
	    (r = buf_put_cstring(p, "")) != 0)
		return r;
	return transport_send(a->t);
}

/* USERAUTH_FAILURE listing the methods that can continue. */
static int
auth_server_send_failure(struct auth_server *a, int partial)
{
	struct buf *p;
	size_t off;
	int r, m, first = 1;

	if ((r = transport_packet_start(a->t, AUTH_MSG_FAILURE, &p)) != 0 ||
	    (r = buf_begin_string(p, &off)) != 0)
		return r;
	for (m = AUTH_METHOD_PUBLICKEY; m < AUTH_METHOD_COUNT; m++) {
		if (!auth_server_allowed(a, m))
			continue;
		if ((r = buf_putf(p, "%s%s", first ? "" : ",",
		    auth_method_name(m))) != 0)
			return r;
		first = 0;
	}
	if ((r = buf_end_string(p, off)) != 0 ||
	    (r = buf_put_bool(p, partial)) != 0)
		return r;
	return transport_send(a->t);
}

/* Method m succeeded: advance the chains; 1 when one is complete. */
static int
auth_server_advance(struct auth_server *a, int m)
{
	size_t i;
	int complete = a->nchains == 0;

	for (i = 0; i < a->nchains; i++) {
		if (a->chains[i].m[a->chains[i].pos] != m)
			continue;
		a->chains[i].pos++;
		if (a->chains[i].m[a->chains[i].pos] < 0)
			complete = 1;
	}
	return complete;
}

static int
auth_server_success(struct auth_server *a, int m)
{
	struct buf *p;
	int r;

	if ((r = buf_putf(a->done_methods, "%s%s",
	    buf_len(a->done_methods) ? "," : "", auth_method_name(m))) != 0)
		return r;
	if (!auth_server_advance(a, m)) {
		log_verbose("auth: partial success for %s with %s", a->user,
		    auth_method_name(m));
		if ((r = auth_server_send_failure(a, 1)) != 0)
			return r;
		return AUTH_CONTINUE;
	}
	if ((a->done_str = buf_dup_string(a->done_methods)) == NULL)
		return FERR_ALLOC;
	if ((r = transport_packet_start(a->t, AUTH_MSG_SUCCESS, &p)) != 0 ||
	    (r = transport_send(a->t)) != 0)
		return r;
	transport_auth_done(a->t);
	a->done = 1;
	log_verbose("auth: accepted %s for %s", a->done_str, a->user);
	return AUTH_SUCCESS;
}

/* Turn an attempt's outcome into messages and a status. */
static int
auth_server_outcome(struct auth_server *a, int m, int outcome)
{
	int r;

	switch (outcome) {
	case AUTH_OUT_OK:
		return auth_server_success(a, m);
	case AUTH_OUT_PENDING:
		return AUTH_CONTINUE;
	case AUTH_OUT_FAIL_FREE:
		if ((r = auth_server_send_failure(a, 0)) != 0)
			return r;
		return AUTH_CONTINUE;
	case AUTH_OUT_FAIL:
		if (++a->failures >= a->max_tries)
			return auth_server_fail(a, FERR_AUTH_FAILED,
			    TRANSPORT_DISC_NO_MORE_AUTH_METHODS,
			    "Too many authentication failures");
		if ((r = auth_server_send_failure(a, 0)) != 0)
			return r;
		return AUTH_FAILED_ATTEMPT;
	default:
		return FERR_INTERNAL;
	}
}

static int
auth_server_key_used(const struct auth_server *a, const struct key *k)
{
	size_t i;

	for (i = 0; i < a->nused; i++)
		if (key_equal_public(a->used[i], k))
			return 1;
	return 0;
}

#define AUTH_CERT_SUFFIX	"-cert-v01@openssh.com"

/*
 * A user certificate (PROTOCOL.certkeys): alg is a certificate
 * algorithm ("rsa-sha2-256-cert-v01@openssh.com") whose signature
 * algorithm (the name less the suffix) must be accepted; the blob is
 * parsed and its CA signature checked.  *keyp gets a copy of the
 * certified key, *sigalgp the signature algorithm (static in alg).
 */
static int
auth_server_cert(struct auth_server *a, const char *alg, const uint8_t *blob,
    size_t bloblen, struct key_cert **certp, struct key **keyp,
    char *sigalg, size_t sigalglen)
{
	size_t n = strlen(alg), sl = sizeof(AUTH_CERT_SUFFIX) - 1;

	*certp = NULL;
	*keyp = NULL;
	if (a->cert_allowed == NULL || n <= sl || n - sl >= sigalglen ||
	    strcmp(alg + n - sl, AUTH_CERT_SUFFIX) != 0)
		return FERR_NOT_SUPPORTED;
	memcpy(sigalg, alg, n - sl);
	sigalg[n - sl] = '\0';
	if (!auth_list_has(a->pubkey_algs, (const uint8_t *)sigalg, n - sl))
		return FERR_NOT_SUPPORTED;
	if (key_cert_from_blob(blob, bloblen, certp) != 0 ||
	    key_demote((*certp)->key, keyp) != 0 ||
	    !key_sig_alg_allowed(*keyp, sigalg, a->sig_flags)) {
		key_cert_free(*certp);
		*certp = NULL;
		key_free(*keyp);
		*keyp = NULL;
		return FERR_CERT_INVALID;
	}
	return 0;
}

/* publickey (RFC 4252 7): the decision is bound to the key in the request. */
static int
auth_server_publickey(struct auth_server *a, const char *user,
    const char *service, struct buf *m, int *outcomep)
{
	struct key *key = NULL;
	struct key_cert *cert = NULL;
	struct buf *p, *data = NULL;
	const uint8_t *blob, *sig = NULL;
	size_t bloblen, siglen = 0, sidlen;
	const uint8_t *sid;
	char *alg = NULL, sigalg[64];
	const char *vrfalg;
	int r, has_sig;

	*outcomep = AUTH_OUT_FAIL;
	if ((r = buf_get_bool(m, &has_sig)) != 0 ||
	    (r = buf_get_cstring(m, &alg, NULL)) != 0 ||
	    (r = buf_get_string_direct(m, &blob, &bloblen)) != 0 ||
	    (has_sig && (r = buf_get_string_direct(m, &sig, &siglen)) != 0) ||
	    (r = buf_expect_end(m)) != 0) {
		r = auth_server_fail(a, r, TRANSPORT_DISC_PROTOCOL_ERROR,
		    "malformed publickey request");
		goto out;
	}
	vrfalg = alg;
	if (key_cert_is_type_name(alg) || strstr(alg, AUTH_CERT_SUFFIX) != NULL) {
		if (auth_server_cert(a, alg, blob, bloblen, &cert, &key, sigalg,
		    sizeof(sigalg)) != 0) {
			log_verbose("auth: certificate with algorithm %.64s not "
			    "accepted", alg);
			goto out;
		}
		vrfalg = sigalg;
	} else if (!auth_list_has(a->pubkey_algs, (const uint8_t *)alg,
	    strlen(alg))) {
		log_verbose("auth: signature algorithm %.64s not accepted",
		    alg);
		goto out;
	} else if (key_from_blob_mem(blob, bloblen, &key) != 0 ||
	    !key_sig_alg_allowed(key, alg, a->sig_flags)) {
		log_verbose("auth: unusable key for algorithm %.64s", alg);
		goto out;
	}
	if (auth_server_key_used(a, key)) {
		log_verbose("auth: key already used in this authentication");
		goto out;
	}
	if (cert != NULL)
		r = a->cert_allowed(user, cert, a->ctx);
	else
		r = a->pubkey_allowed(user, key, a->ctx);
	if (r < 0)
		goto out;
	if (r == 0) {
		log_verbose("auth: key refused for %s", user);
		goto out;
	}
	r = 0;
	if (!has_sig) {
		if ((r = transport_packet_start(a->t, AUTH_MSG_PK_OK,
		    &p)) != 0 ||
		    (r = buf_put_cstring(p, alg)) != 0 ||
		    (r = buf_put_string(p, blob, bloblen)) != 0 ||
		    (r = transport_send(a->t)) != 0)
			goto out;
		*outcomep = AUTH_OUT_PENDING;
		goto out;
	}
	if ((sid = transport_session_id(a->t, &sidlen)) == NULL) {
		sid = (const uint8_t *)"";	/* no key exchange yet: fails */
		sidlen = 0;
	}
	if ((data = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = auth_sign_data(data, sid, sidlen, user, service, alg, blob,
	    bloblen)) != 0)
		goto out;
	if (key_verify(key, sig, siglen, buf_ptr(data), buf_len(data), vrfalg,
	    a->sig_flags) != 0) {
		log_verbose("auth: bad signature from %s", user);
		goto out;
	}
	if (a->nused < AUTH_CHAIN_MAX) {
		a->used[a->nused++] = key;
		key = NULL;
	}
	*outcomep = AUTH_OUT_OK;
 out:
	free(alg);
	key_free(key);
	key_cert_free(cert);
	buf_free(data);
	return r;
}

static int
auth_server_password(struct auth_server *a, const char *user, struct buf *m,
    int *outcomep)
{
	char *pw = NULL, *newpw = NULL;
	size_t len = 0, newlen = 0;
	int r, change;

	*outcomep = AUTH_OUT_FAIL;
	if ((r = buf_get_bool(m, &change)) != 0 ||
	    (r = buf_get_cstring(m, &pw, &len)) != 0 ||
	    (change && (r = buf_get_cstring(m, &newpw, &newlen)) != 0) ||
	    (r = buf_expect_end(m)) != 0) {
		r = auth_server_fail(a, r, TRANSPORT_DISC_PROTOCOL_ERROR,
		    "malformed password request");
		goto out;
	}
	/* Password changes are not offered: such a request just fails. */
	if (change || len > AUTH_PASSWORD_MAX)
		goto out;
	if ((r = a->password(user, pw, a->ctx)) < 0)
		goto out;
	if (r == 1)
		*outcomep = AUTH_OUT_OK;
	r = 0;
 out:
	if (pw != NULL)
		misc_freezero(pw, len);
	if (newpw != NULL)
		misc_freezero(newpw, newlen);
	return r;
}

/* Run the policy for one round and send what it asks for. */
static int
auth_server_kbdint_round(struct auth_server *a, int *outcomep)
{
	struct auth_kbdint *k = a->kbd;
	struct buf *p;
	size_t i;
	int r, st;

	*outcomep = AUTH_OUT_FAIL;
	auth_kbdint_clear_prompts(k);
	st = a->kbdint(k, a->user, a->ctx);
	auth_kbdint_clear_responses(k);
	k->round++;
	if (st < 0)
		return st;
	if (st == AUTH_KBDINT_SUCCESS)
		*outcomep = AUTH_OUT_OK;
	if (st != AUTH_KBDINT_PROMPT) {
		auth_kbdint_free(a->kbd);
		a->kbd = NULL;
		return 0;
	}
	if ((r = transport_packet_start(a->t, AUTH_MSG_PK_OK, &p)) != 0 ||
	    (r = buf_put_cstring(p, k->name != NULL ? k->name : "")) != 0 ||
	    (r = buf_put_cstring(p, k->instruction != NULL ?
	    k->instruction : "")) != 0 ||
	    (r = buf_put_cstring(p, "")) != 0 ||
	    (r = buf_put_u32(p, (uint32_t)k->nprompts)) != 0)
		return r;
	for (i = 0; i < k->nprompts; i++)
		if ((r = buf_put_cstring(p, k->prompts[i])) != 0 ||
		    (r = buf_put_bool(p, k->echo[i])) != 0)
			return r;
	if ((r = transport_send(a->t)) != 0)
		return r;
	k->waiting = 1;
	*outcomep = AUTH_OUT_PENDING;
	return 0;
}

static int
auth_server_kbdint(struct auth_server *a, struct buf *m, int *outcomep)
{
	int r;

	*outcomep = AUTH_OUT_FAIL;
	/* string language tag, string submethods: both ignored. */
	if ((r = buf_get_string_direct(m, NULL, NULL)) != 0 ||
	    (r = buf_get_string_direct(m, NULL, NULL)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		return auth_server_fail(a, r, TRANSPORT_DISC_PROTOCOL_ERROR,
		    "malformed keyboard-interactive request");
	if ((a->kbd = calloc(1, sizeof(*a->kbd))) == NULL)
		return FERR_ALLOC;
	return auth_server_kbdint_round(a, outcomep);
}

static int
auth_server_info_response(struct auth_server *a, struct buf *m)
{
	struct auth_kbdint *k = a->kbd;
	uint32_t n, i;
	size_t len;
	int r, outcome;

	if (k == NULL || !k->waiting)
		return auth_server_fail(a, FERR_PROTOCOL,
		    TRANSPORT_DISC_PROTOCOL_ERROR, "unexpected INFO_RESPONSE");
	k->waiting = 0;
	/* The count must match the prompts sent: nothing is sized by it. */
	if ((r = buf_get_u32(m, &n)) != 0 || n != k->nprompts)
		return auth_server_fail(a, r, TRANSPORT_DISC_PROTOCOL_ERROR,
		    "wrong number of keyboard-interactive responses");
	for (i = 0; i < n; i++) {
		if ((r = buf_get_cstring(m, &k->responses[i], &len)) != 0)
			break;
		k->nresponses++;
		if (len > AUTH_PASSWORD_MAX) {
			r = FERR_STRING_TOO_LARGE;
			break;
		}
	}
	if (r != 0 || (r = buf_expect_end(m)) != 0) {
		auth_kbdint_clear_responses(k);
		return auth_server_fail(a, r, TRANSPORT_DISC_PROTOCOL_ERROR,
		    "malformed INFO_RESPONSE");
	}
	if ((r = auth_server_kbdint_round(a, &outcome)) != 0)
		return r;
	return auth_server_outcome(a, AUTH_METHOD_KBDINT, outcome);
}

static int
auth_server_request(struct auth_server *a, struct buf *m)
{
	char *user = NULL, *service = NULL;
	const uint8_t *mname;
	size_t ulen, mlen;
	int r, meth, outcome = AUTH_OUT_FAIL;

	if ((r = buf_get_cstring(m, &user, &ulen)) != 0 ||
	    (r = buf_get_cstring(m, &service, NULL)) != 0 ||
	    (r = buf_get_string_direct(m, &mname, &mlen)) != 0) {
		r = auth_server_fail(a, r, TRANSPORT_DISC_PROTOCOL_ERROR,
		    "malformed USERAUTH_REQUEST");
		goto out;
	}
	if (ulen > AUTH_USER_MAX || ulen == 0) {
		r = auth_server_fail(a, FERR_PROTOCOL,
		    TRANSPORT_DISC_ILLEGAL_USER_NAME, "illegal user name");
		goto out;
	}
	if (a->user != NULL && strcmp(a->user, user) != 0) {
		r = auth_server_fail(a, FERR_PROTOCOL,
		    TRANSPORT_DISC_PROTOCOL_ERROR,
		    "change of user name not allowed");
		goto out;
	}
	if (strcmp(service, a->service) != 0) {
		r = auth_server_fail(a, FERR_PROTOCOL,
		    TRANSPORT_DISC_SERVICE_NOT_AVAILABLE,
		    "service not available");
		goto out;
	}
	if (a->user == NULL) {
		a->user = user;
		user = NULL;
		/* The user's settings, before anything is answered. */
		if (a->user_first != NULL &&
		    (r = a->user_first(a, a->user, a->ctx)) < 0) {
			r = auth_server_fail(a, r, r == FERR_CONFIG ?
			    TRANSPORT_DISC_NO_MORE_AUTH_METHODS :
			    TRANSPORT_DISC_BY_APPLICATION, r == FERR_CONFIG ?
			    "no authentication methods enabled" :
			    "authentication not available");
			goto out;
		}
	}
	/* A new request abandons a keyboard-interactive conversation. */
	auth_kbdint_free(a->kbd);
	a->kbd = NULL;
	if ((r = auth_server_send_banner(a)) != 0)
		goto out;
	meth = auth_method_lookup(mname, mlen);
	if (meth == AUTH_METHOD_NONE) {
		outcome = AUTH_OUT_FAIL_FREE;
		if ((r = buf_expect_end(m)) != 0) {
			r = auth_server_fail(a, r,
			    TRANSPORT_DISC_PROTOCOL_ERROR,
			    "malformed none request");
			goto out;
		}
	} else if (meth < 0 || !auth_server_allowed(a, meth))
		outcome = AUTH_OUT_FAIL;
	else if (meth == AUTH_METHOD_PUBLICKEY)
		r = auth_server_publickey(a, a->user, a->service, m, &outcome);
	else if (meth == AUTH_METHOD_PASSWORD)
		r = auth_server_password(a, a->user, m, &outcome);
	else
		r = auth_server_kbdint(a, m, &outcome);
	if (r != 0)
		goto out;
	r = auth_server_outcome(a, meth, outcome);
 out:
	free(user);
	free(service);
	return r;
}

static int
auth_server_service(struct auth_server *a, struct buf *m)
{
	struct buf *p;
	char *name = NULL;
	int r;

	if ((r = buf_get_cstring(m, &name, NULL)) != 0 ||
	    (r = buf_expect_end(m)) != 0) {
		r = auth_server_fail(a, r, TRANSPORT_DISC_PROTOCOL_ERROR,
		    "malformed SERVICE_REQUEST");
		goto out;
	}
	if (a->service_ok || strcmp(name, AUTH_SERVICE_USERAUTH) != 0) {
		r = auth_server_fail(a, FERR_PROTOCOL,
		    TRANSPORT_DISC_SERVICE_NOT_AVAILABLE,
		    "service not available");
		goto out;
	}
	if ((r = transport_packet_start(a->t, TRANSPORT_MSG_SERVICE_ACCEPT,
	    &p)) != 0 ||
	    (r = buf_put_cstring(p, AUTH_SERVICE_USERAUTH)) != 0 ||
	    (r = transport_send(a->t)) != 0)
		goto out;
	a->service_ok = 1;
 out:
	free(name);
	return r;
}

int
auth_server_input(struct auth_server *a, uint8_t msg, struct buf *payload)
{
	if (a->done) {
		/* RFC 4252 5.1: later requests are silently ignored. */
		if (msg >= AUTH_MSG_REQUEST && msg <= 79)
			return AUTH_SUCCESS;
		return FERR_ARGUMENT;
	}
	if (msg == TRANSPORT_MSG_SERVICE_REQUEST)
		return auth_server_service(a, payload);
	if (msg == AUTH_MSG_REQUEST && a->service_ok)
		return auth_server_request(a, payload);
	if (msg == AUTH_MSG_INFO_RESPONSE && a->service_ok)
		return auth_server_info_response(a, payload);
	return auth_server_fail(a, FERR_PROTOCOL, TRANSPORT_DISC_PROTOCOL_ERROR,
	    msg == AUTH_MSG_SUCCESS ? "USERAUTH_SUCCESS from the client" :
	    "unexpected message before authentication");
}
