/*
 * Key exchange (RFC 4253 sections 7-8, RFC 4419, RFC 5656, RFC 8731),
 * strict kex (OpenSSH PROTOCOL, kex-strict-*-v00@openssh.com) and the
 * ext-info signal (RFC 8308).  Called by transport.c for KEXINIT, the
 * method messages 30-34 and NEWKEYS.
 *
 * Each method is a row of kex_steps: (kind, role, message) -> handler,
 * so the message a side accepts next is always explicit (kex->expect).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/rand.h>

#include "cipher.h"
#include "digest.h"
#include "ferry/err.h"
#include "ferry/key-cert.h"
#include "ferry/key.h"
#include "ferry/log.h"
#include "kexalg.h"
#include "mac.h"
#include "transport-int.h"

#define KEX_COOKIE_LEN		16
#define KEX_STRICT_C		"kex-strict-c-v00@openssh.com"
#define KEX_STRICT_S		"kex-strict-s-v00@openssh.com"
#define KEX_EXT_INFO_C		"ext-info-c"
#define KEX_EXT_INFO_S		"ext-info-s"

/* Name-list positions in KEXINIT (RFC 4253 7.1). */
enum kex_list {
	KEX_L_KEX = 0, KEX_L_HOSTKEY, KEX_L_ENC_CS, KEX_L_ENC_SC, KEX_L_MAC_CS,
	KEX_L_MAC_SC, KEX_L_COMP_CS, KEX_L_COMP_SC, KEX_L_LANG_CS, KEX_L_LANG_SC,
	KEX_NLISTS
};

/* Whether the comma-separated list holds name. */
static int
kex_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
		if ((p = strchr(p, ',')) != NULL)
			p++;
	}
	return 0;
}

/*
 * The first name of the client's list that the server's list also has
 * and, when valid is not NULL, that valid accepts (RFC 4253 7.1).
 */
static char *
kex_match(const char *client, const char *server, int (*valid)(const char *))
{
	char *copy, *cp, *name, *found = NULL;

	if ((copy = strdup(client)) == NULL)
		return NULL;
	for (cp = copy; (name = strsep(&cp, ",")) != NULL;) {
		if (*name == '\0' || !kex_list_has(server, name))
			continue;
		if (valid != NULL && !valid(name))
			continue;
		found = strdup(name);
		break;
	}
	free(copy);
	return found;
}

static int
kex_is_method(const char *name)
{
	return kexalg_by_name(name) != NULL;
}

static int kex_client_begin(struct transport *t, struct kex *k);

/* Whether two name-lists start with the same name. */
static int
kex_same_first(const char *a, const char *b)
{
	size_t n = strcspn(a, ",");

	return n > 0 && n == strcspn(b, ",") && strncmp(a, b, n) == 0;
}

int
kex_guess_right(const char *kex_a, const char *hostkey_a, const char *kex_b,
    const char *hostkey_b)
{
	return kex_same_first(kex_a, kex_b) &&
	    kex_same_first(hostkey_a, hostkey_b);
}

/*
 * The method a client guesses (RFC 4253 7.1): its first key exchange
 * algorithm when the first message does not depend on what the
 * negotiation picks.  Curve25519 and ECDH send a fresh public value;
 * DH sizes its exponent by the negotiated ciphers and GEX asks by them,
 * so those are not guessed.
 */
static const struct kexalg *
kex_guess_alg(const char *kexlist)
{
	const struct kexalg *alg;
	char name[64];
	size_t n = strcspn(kexlist, ",");

	if (n == 0 || n >= sizeof(name))
		return NULL;
	memcpy(name, kexlist, n);
	name[n] = '\0';
	if ((alg = kexalg_by_name(name)) == NULL)
		return NULL;
	return alg->kind == KEXALG_CURVE25519 || alg->kind == KEXALG_ECDH ?
	    alg : NULL;
}

/*
 * Peers whose identification shows they judge the client's guessed packet
 * by another rule than RFC 4253 7.1 (both sides' first kex and host key
 * names), as the RFC-wrong guess they keep would otherwise be answered
 * by the real packet as well.  paramiko reads first_kex_packet_follows
 * and ignores it: the guess stands when its method is the negotiated
 * one's.  AsyncSSH keeps the guess when the negotiated name is the
 * client's first kex name, whatever the server prefers and whatever the
 * host key algorithms; so does TinySSH, which answers the guessed packet
 * whenever the client's first kex algorithm is the one it picks
 * (whatever its own first names are).
 */
enum kex_guess_rule {
	KEX_GUESS_RFC,		/* RFC 4253 7.1: both sides' first names */
	KEX_GUESS_METHOD,	/* the negotiated method is the guessed one */
	KEX_GUESS_NAME,		/* the negotiated name is the guessed one */
};

static const struct kex_guess_quirk {
	const char *version;	/* identification prefix */
	enum kex_guess_rule rule;
} kex_guess_quirks[] = {
	{ "SSH-2.0-paramiko_", KEX_GUESS_METHOD },
	{ "SSH-2.0-AsyncSSH_", KEX_GUESS_NAME },
	{ "SSH-2.0-tinyssh_", KEX_GUESS_NAME },
};

static enum kex_guess_rule
kex_peer_guess_rule(const char *version)
{
	size_t i, n;

	for (i = 0; version != NULL && i < sizeof(kex_guess_quirks) /
	    sizeof(kex_guess_quirks[0]); i++) {
		n = strlen(kex_guess_quirks[i].version);
		if (strncmp(version, kex_guess_quirks[i].version, n) == 0)
			return kex_guess_quirks[i].rule;
	}
	return KEX_GUESS_RFC;
}

/* What each list is, for the message when nothing in it matches. */
static const char *const kex_list_what[KEX_NLISTS] = {
	[KEX_L_KEX] = "key exchange method",
	[KEX_L_HOSTKEY] = "host key type",
	[KEX_L_ENC_CS] = "cipher",
	[KEX_L_ENC_SC] = "cipher",
	[KEX_L_MAC_CS] = "MAC",
	[KEX_L_MAC_SC] = "MAC",
	[KEX_L_COMP_CS] = "compression method",
	[KEX_L_COMP_SC] = "compression method",
};

/*
 * End the exchange whose negotiation failed with r, saying which kind
 * found no match and what the peer offered (as OpenSSH says it).
 */
static int
kex_nomatch(struct transport *t, const struct kex *k, int r,
    char *peer[KEX_NLISTS])
{
	const char *offer;

	if ((r != FERR_NO_KEX_MATCH && r != FERR_NO_HOSTKEY_MATCH &&
	    r != FERR_NO_CIPHER_MATCH && r != FERR_NO_MAC_MATCH &&
	    r != FERR_NO_COMPRESS_MATCH) || k->nomatch < 0 ||
	    k->nomatch >= KEX_NLISTS || kex_list_what[k->nomatch] == NULL)
		return transport_fail(t, r, TRANSPORT_DISC_KEX_FAILED,
		    "key exchange negotiation failed");
	offer = peer[k->nomatch] != NULL ? peer[k->nomatch] : "";
	return transport_fail(t, r, TRANSPORT_DISC_KEX_FAILED,
	    "no matching %s found. Their offer: %.400s",
	    kex_list_what[k->nomatch], offer);
}

void
kex_free(struct kex *k)
{
	size_t i;

	if (k == NULL)
		return;
	buf_free(k->my_kexinit);
	buf_free(k->peer_kexinit);
	for (i = 0; i < TRANSPORT_NALG; i++)
		free(k->names[i]);
	kex_curve25519_free(k->c25519);
	kex_ecdh_free(k->ecdh);
	kex_dh_free(k->dh);
	kex_dh_group_free(k->grp);
	buf_free(k->my_pub);
	buf_free(k->shared);
	packet_keys_free(k->next_send);
	packet_keys_free(k->next_recv);
	explicit_bzero(k, sizeof(*k));
	free(k);
}

/*
 * The host key a server uses for algorithm alg: a plain key of its type,
 * or for a certificate algorithm the key of a certificate of its type.
 * *certp (may be NULL) gets the certificate or NULL.
 */
static struct key *
kex_server_hostkey(struct transport *t, const char *alg,
    const struct key_cert **certp)
{
	int type = transport_hostkey_alg_type(alg);
	size_t i;

	if (certp != NULL)
		*certp = NULL;
	if (type < 0)
		return NULL;
	if (transport_hostkey_alg_is_cert(alg)) {
		for (i = 0; i < t->nhostcerts; i++)
			if ((int)key_get_type(t->hostcerts[i]->key) == type) {
				if (certp != NULL)
					*certp = t->hostcerts[i];
				return t->hostkeys[t->hostcert_key[i]];
			}
		return NULL;
	}
	for (i = 0; i < t->nhostkeys; i++)
		if ((int)key_get_type(t->hostkeys[i]) == type)
			return t->hostkeys[i];
	return NULL;
}

/*
 * The host key list the server offers: only algorithms it holds keys (or
 * certificates) for.
 */
static int
kex_server_hostkey_list(struct transport *t, struct buf *out)
{
	char *copy, *cp, *name;
	int r = 0, first = 1;

	if ((copy = strdup(t->lists[1])) == NULL)
		return FERR_ALLOC;
	for (cp = copy; (name = strsep(&cp, ",")) != NULL;) {
		if (kex_server_hostkey(t, name, NULL) == NULL)
			continue;
		if ((r = buf_putf(out, "%s%s", first ? "" : ",", name)) != 0)
			break;
		first = 0;
	}
	free(copy);
	return r;
}

/*
 * The host key blob K_S a server sends for algorithm alg: the
 * certificate for a certificate algorithm, else the key.  *hkp gets the
 * key that signs.
 */
static int
kex_server_hostkey_blob(struct transport *t, const char *alg,
    struct key **hkp, struct buf *kblob)
{
	const struct key_cert *cert;

	if ((*hkp = kex_server_hostkey(t, alg, &cert)) == NULL)
		return FERR_NO_HOSTKEY_MATCH;
	if (cert != NULL)
		return buf_put(kblob, cert->blob, cert->bloblen);
	return key_to_blob(*hkp, kblob);
}

static int
kex_build_kexinit(struct transport *t, struct kex *k)
{
	struct buf *b = k->my_kexinit, *hk = NULL;
	uint8_t cookie[KEX_COOKIE_LEN];
	int r, first = t->kex_count == 0;

	if (RAND_bytes(cookie, sizeof(cookie)) != 1)
		return FERR_LIBCRYPTO;
	if ((hk = buf_new()) == NULL)
		return FERR_ALLOC;
	if (t->server)
		r = kex_server_hostkey_list(t, hk);
	else
		r = buf_put(hk, t->lists[1], strlen(t->lists[1]));
	if (r != 0)
		goto out;
	if (t->server && buf_len(hk) == 0) {
		r = FERR_NO_HOSTKEY_MATCH;	/* no key for any algorithm */
		goto out;
	}
	/* The pseudo-algorithms go only into the first KEXINIT. */
	if ((r = buf_put_u8(b, TRANSPORT_MSG_KEXINIT)) != 0 ||
	    (r = buf_put(b, cookie, sizeof(cookie))) != 0 ||
	    (r = buf_put_u32(b, 0)) != 0 ||
	    (r = buf_putf(b, "%s%s%s", t->lists[0],
	    !first ? "" : t->server ? "," KEX_EXT_INFO_S : "," KEX_EXT_INFO_C,
	    !first ? "" : t->server ? "," KEX_STRICT_S : "," KEX_STRICT_C)) != 0 ||
	    (r = buf_end_string(b, 1 + KEX_COOKIE_LEN)) != 0 ||
	    (r = buf_put_stringb(b, hk)) != 0 ||
	    (r = buf_put_cstring(b, t->lists[2])) != 0 ||
	    (r = buf_put_cstring(b, t->lists[2])) != 0 ||
	    (r = buf_put_cstring(b, t->lists[3])) != 0 ||
	    (r = buf_put_cstring(b, t->lists[3])) != 0 ||
	    (r = buf_put_cstring(b, t->lists[4])) != 0 ||
	    (r = buf_put_cstring(b, t->lists[4])) != 0 ||
	    (r = buf_put_cstring(b, "")) != 0 ||
	    (r = buf_put_cstring(b, "")) != 0 ||
	    (r = buf_put_bool(b, k->guess != NULL)) != 0 ||
	    (r = buf_put_u32(b, 0)) != 0)
		goto out;
 out:
	buf_free(hk);
	return r;
}

int
kex_start(struct transport *t)
{
	struct kex *k;
	struct buf *p;
	int r;

	if (t->kex != NULL)
		return 0;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return FERR_ALLOC;
	if ((k->my_kexinit = buf_new()) == NULL ||
	    (k->peer_kexinit = buf_new()) == NULL) {
		kex_free(k);
		return FERR_ALLOC;
	}
	/* A client guesses the method and sends its first packet at once. */
	if (!t->server)
		k->guess = kex_guess_alg(t->lists[0]);
	if ((r = kex_build_kexinit(t, k)) != 0) {
		kex_free(k);
		return r;
	}
	t->kex = k;
	t->kex_started = t->now;
	if ((r = transport_send_internal(t, TRANSPORT_MSG_KEXINIT, &p)) != 0)
		return r;
	if ((r = buf_put(p, buf_ptr(k->my_kexinit) + 1,
	    buf_len(k->my_kexinit) - 1)) != 0 ||
	    (r = transport_send(t)) != 0)
		return r;
	if (k->guess == NULL)
		return 0;
	k->alg = k->guess;
	return kex_client_begin(t, k);
}

/*
 * Client, the peer's KEXINIT is in: keep the guessed packet when the
 * server takes it (RFC 4253 7.1: both sides prefer the same kex and host
 * key algorithms, or the peer's own rule in kex_guess_quirks), else
 * forget it and begin the negotiated method.
 */
static int
kex_client_after_guess(struct transport *t, struct kex *k, int right)
{
	switch (k->guess != NULL ? kex_peer_guess_rule(t->peer_version) :
	    KEX_GUESS_RFC) {
	case KEX_GUESS_METHOD:
		right = k->guess->kind == k->alg->kind &&
		    k->guess->param == k->alg->param;
		break;
	case KEX_GUESS_NAME:
		right = strcmp(k->guess->name, k->alg->name) == 0;
		break;
	case KEX_GUESS_RFC:
	default:
		break;
	}
	if (k->guess != NULL && right) {
		log_debug("kex: the guessed %s packet stands", k->guess->name);
		k->expect = KEX_MSG_ECDH_REPLY;
		return 0;
	}
	if (k->guess != NULL) {
		log_debug("kex: the guessed %s packet is void", k->guess->name);
		kex_curve25519_free(k->c25519);
		kex_ecdh_free(k->ecdh);
		buf_free(k->my_pub);
		k->c25519 = NULL;
		k->ecdh = NULL;
		k->my_pub = NULL;
	}
	return kex_client_begin(t, k);
}

/* Parse KEXINIT into its ten lists and the guess flag. */
static int
kex_parse_kexinit(struct buf *b, char *lists[KEX_NLISTS], int *follows)
{
	size_t i;
	int r;

	if ((r = buf_consume(b, KEX_COOKIE_LEN)) != 0)
		return r;
	for (i = 0; i < KEX_NLISTS; i++)
		if ((r = buf_get_namelist(b, &lists[i])) != 0)
			return r;
	if ((r = buf_get_bool(b, follows)) != 0 ||
	    (r = buf_get_u32(b, NULL)) != 0)
		return r;
	return buf_expect_end(b);
}

static int
kex_cipher_is_aead(const char *name)
{
	const struct cipher_alg *c = cipher_by_name(name);

	return c != NULL && cipher_authlen(c) != 0;
}

/* Bytes of key material a direction needs, for the DH exponent size. */
static size_t
kex_need(const char *cipher, const char *mac)
{
	size_t keylen = 0, ivlen = 0, mackeylen = 0, block = 0, need;

	if (packet_key_sizes(cipher, mac, &keylen, &ivlen, &mackeylen,
	    &block) != 0)
		return 0;
	need = keylen;
	if (block > need)
		need = block;
	if (ivlen > need)
		need = ivlen;
	if (mackeylen > need)
		need = mackeylen;
	return need;
}

/* Choose every algorithm (RFC 4253 7.1): the client's preference wins. */
static int
kex_negotiate(struct transport *t, struct kex *k, char *peer[KEX_NLISTS],
    int follows)
{
	const char *mine[KEX_NLISTS], *c, *s;
	size_t i, need;
	int r = 0;

	/* Our lists as sent: parse them back from our own KEXINIT. */
	{
		struct buf *b = buf_fromb(k->my_kexinit);
		char *l[KEX_NLISTS] = { 0 };
		int f;

		if (b == NULL)
			return FERR_ALLOC;
		if (buf_consume(b, 1) != 0 ||
		    kex_parse_kexinit(b, l, &f) != 0)
			r = FERR_INTERNAL;
		buf_free(b);
		for (i = 0; i < KEX_NLISTS; i++) {
			mine[i] = l[i];
			if (r != 0)
				free(l[i]);
		}
		if (r != 0)
			return r;
	}
#define KEX_C(i) (t->server ? peer[i] : mine[i])
#define KEX_S(i) (t->server ? mine[i] : peer[i])
	if ((k->names[TRANSPORT_ALG_KEX] = kex_match(KEX_C(KEX_L_KEX),
	    KEX_S(KEX_L_KEX), kex_is_method)) == NULL) {
		k->nomatch = KEX_L_KEX;
		r = FERR_NO_KEX_MATCH;
		goto out;
	}
	if ((k->names[TRANSPORT_ALG_HOSTKEY] = kex_match(KEX_C(KEX_L_HOSTKEY),
	    KEX_S(KEX_L_HOSTKEY), NULL)) == NULL) {
		k->nomatch = KEX_L_HOSTKEY;
		r = FERR_NO_HOSTKEY_MATCH;
		goto out;
	}
	for (i = 0; i < 2; i++) {
		c = KEX_C(KEX_L_ENC_CS + i);
		s = KEX_S(KEX_L_ENC_CS + i);
		if ((k->names[TRANSPORT_ALG_CIPHER_CTOS + i] =
		    kex_match(c, s, NULL)) == NULL) {
			k->nomatch = KEX_L_ENC_CS + i;
			r = FERR_NO_CIPHER_MATCH;
			goto out;
		}
		/* An AEAD cipher authenticates itself: no MAC. */
		if (!kex_cipher_is_aead(k->names[TRANSPORT_ALG_CIPHER_CTOS + i]) &&
		    (k->names[TRANSPORT_ALG_MAC_CTOS + i] =
		    kex_match(KEX_C(KEX_L_MAC_CS + i), KEX_S(KEX_L_MAC_CS + i),
		    NULL)) == NULL) {
			k->nomatch = KEX_L_MAC_CS + i;
			r = FERR_NO_MAC_MATCH;
			goto out;
		}
		if ((k->names[TRANSPORT_ALG_COMP_CTOS + i] =
		    kex_match(KEX_C(KEX_L_COMP_CS + i), KEX_S(KEX_L_COMP_CS + i),
		    NULL)) == NULL) {
			k->nomatch = KEX_L_COMP_CS + i;
			r = FERR_NO_COMPRESS_MATCH;
			goto out;
		}
	}
	k->alg = kexalg_by_name(k->names[TRANSPORT_ALG_KEX]);
	k->hashlen = digest_bytes(k->alg->hash_alg);
	/*
	 * RFC 4253 7.1: a guess is wrong unless both sides prefer the same
	 * kex and host key algorithms; the peer's wrong guess is discarded.
	 */
	k->guess_right = kex_guess_right(mine[KEX_L_KEX], mine[KEX_L_HOSTKEY],
	    peer[KEX_L_KEX], peer[KEX_L_HOSTKEY]);
	if (follows && !k->guess_right)
		k->ignore_guess = 1;
	need = 0;
	for (i = 0; i < 2; i++) {
		size_t n = kex_need(k->names[TRANSPORT_ALG_CIPHER_CTOS + i],
		    k->names[TRANSPORT_ALG_MAC_CTOS + i]);

		if (n > need)
			need = n;
	}
	k->need_bits = (unsigned int)need * 8;
	/* Strict kex and ext-info are decided by the first KEXINIT. */
	if (t->kex_count == 0) {
		t->strict = kex_list_has(peer[KEX_L_KEX],
		    t->server ? KEX_STRICT_C : KEX_STRICT_S);
		t->peer_ext_info = kex_list_has(peer[KEX_L_KEX],
		    t->server ? KEX_EXT_INFO_C : KEX_EXT_INFO_S);
	}
#undef KEX_C
#undef KEX_S
 out:
	for (i = 0; i < KEX_NLISTS; i++)
		free((char *)mine[i]);
	return r;
}

/* ---- sending method messages ---- */

static int
kex_send_public(struct transport *t, uint8_t msg, const struct buf *pub,
    const BIGNUM *bn)
{
	struct buf *p;
	int r;

	if ((r = transport_send_internal(t, msg, &p)) != 0)
		return r;
	if (pub != NULL)
		r = buf_put_stringb(p, pub);
	else
		r = buf_put_mpint(p, bn);
	if (r != 0)
		return r;
	return transport_send(t);
}

/* Client: generate our ephemeral key and send it (or the GEX request). */
static int
kex_client_begin(struct transport *t, struct kex *k)
{
	struct kex_dh_group *grp = NULL;
	struct buf *p;
	int r;

	switch (k->alg->kind) {
	case KEXALG_CURVE25519:
		if ((k->my_pub = buf_new()) == NULL)
			return FERR_ALLOC;
		if ((r = kex_curve25519_keygen(&k->c25519)) != 0 ||
		    (r = kex_curve25519_public(k->c25519, k->my_pub)) != 0)
			return r;
		k->expect = KEX_MSG_ECDH_REPLY;
		return kex_send_public(t, KEX_MSG_ECDH_INIT, k->my_pub, NULL);
	case KEXALG_ECDH:
		if ((k->my_pub = buf_new()) == NULL)
			return FERR_ALLOC;
		if ((r = kex_ecdh_keygen(k->alg->param, &k->ecdh)) != 0 ||
		    (r = kex_ecdh_public(k->ecdh, k->my_pub)) != 0)
			return r;
		k->expect = KEX_MSG_ECDH_REPLY;
		return kex_send_public(t, KEX_MSG_ECDH_INIT, k->my_pub, NULL);
	case KEXALG_DH:
		if ((r = kex_dh_group_builtin(k->alg->param, &grp)) != 0)
			return r;
		r = kex_dh_keygen(grp, k->need_bits, &k->dh);
		k->grp = grp;
		if (r != 0)
			return r;
		k->expect = KEX_MSG_ECDH_REPLY;
		return kex_send_public(t, KEX_MSG_ECDH_INIT, NULL,
		    kex_dh_public(k->dh));
	case KEXALG_GEX:
		kex_dh_gex_client_request(k->need_bits, &k->req);
		if ((r = transport_send_internal(t, KEX_MSG_GEX_REQUEST, &p)) != 0 ||
		    (r = buf_put_u32(p, k->req.min)) != 0 ||
		    (r = buf_put_u32(p, k->req.nbits)) != 0 ||
		    (r = buf_put_u32(p, k->req.max)) != 0)
			return r;
		k->expect = KEX_MSG_ECDH_REPLY;	/* GEX_GROUP has the same number */
		return transport_send(t);
	default:
		return FERR_INTERNAL;
	}
}

int
kex_recv_kexinit(struct transport *t, struct buf *payload)
{
	char *peer[KEX_NLISTS] = { 0 };
	struct kex *k;
	size_t i;
	int r, follows = 0;

	if ((r = kex_start(t)) != 0)
		return r;
	k = t->kex;
	if (k->got_kexinit)
		return transport_fail(t, FERR_PROTOCOL,
		    TRANSPORT_DISC_PROTOCOL_ERROR, "second KEXINIT in one exchange");
	k->got_kexinit = 1;
	if ((r = buf_put_u8(k->peer_kexinit, TRANSPORT_MSG_KEXINIT)) != 0 ||
	    (r = buf_putb(k->peer_kexinit, payload)) != 0)
		return r;
	if ((r = kex_parse_kexinit(payload, peer, &follows)) != 0) {
		r = transport_fail(t, r, TRANSPORT_DISC_PROTOCOL_ERROR,
		    "malformed KEXINIT");
		goto out;
	}
	if ((r = kex_negotiate(t, k, peer, follows)) != 0) {
		r = kex_nomatch(t, k, r, peer);
		goto out;
	}
	/* Strict kex: the first KEXINIT must be the very first packet. */
	if (t->strict && t->kex_count == 0 && packet_recv_seq(t->pkt) != 1) {
		r = transport_fail(t, FERR_PROTOCOL, TRANSPORT_DISC_PROTOCOL_ERROR,
		    "strict KEX violation: KEXINIT was not the first packet");
		goto out;
	}
	log_debug("kex: %s, host key %s, cipher %s/%s, MAC %s/%s, compression %s/%s",
	    k->names[0], k->names[1], k->names[2], k->names[3],
	    k->names[4] != NULL ? k->names[4] : "<implicit>",
	    k->names[5] != NULL ? k->names[5] : "<implicit>",
	    k->names[6], k->names[7]);
	if (t->server)
		k->expect = k->alg->kind == KEXALG_GEX ? KEX_MSG_GEX_REQUEST :
		    KEX_MSG_ECDH_INIT;
	else if ((r = kex_client_after_guess(t, k, k->guess_right)) != 0)
		r = transport_fail(t, r, TRANSPORT_DISC_KEX_FAILED,
		    "key exchange setup failed");
 out:
	for (i = 0; i < KEX_NLISTS; i++)
		free(peer[i]);
	return r;
}

/* ---- keys ---- */

static enum packet_comp
kex_comp(const char *name)
{
	if (strcmp(name, "zlib") == 0)
		return PACKET_COMP_ZLIB;
	if (strcmp(name, "zlib@openssh.com") == 0)
		return PACKET_COMP_ZLIB_DELAYED;
	return PACKET_COMP_NONE;
}

/* One key of need bytes for letter which; an empty buffer when none. */
static int
kex_derive_one(struct transport *t, struct kex *k, char which, size_t need,
    struct buf **bp)
{
	if (need == 0) {
		if ((*bp = buf_new()) == NULL)
			return FERR_ALLOC;
		return 0;
	}
	return kex_kdf_derive(k->alg->hash_alg, k->shared, k->hash, k->hashlen,
	    t->session_id, t->session_id_len, which, need, bp);
}

/* Derive the keys of one direction (RFC 4253 7.2): letters iv, key, mac. */
static int
kex_derive_dir(struct transport *t, struct kex *k, int ctos,
    struct packet_keys **kp)
{
	const char *cipher = k->names[ctos ? TRANSPORT_ALG_CIPHER_CTOS :
	    TRANSPORT_ALG_CIPHER_STOC];
	const char *mac = k->names[ctos ? TRANSPORT_ALG_MAC_CTOS :
	    TRANSPORT_ALG_MAC_STOC];
	const char *comp = k->names[ctos ? TRANSPORT_ALG_COMP_CTOS :
	    TRANSPORT_ALG_COMP_STOC];
	struct buf *iv = NULL, *key = NULL, *mk = NULL;
	size_t keylen, ivlen, mackeylen, block;
	char base = ctos ? 'A' : 'B';
	int r;

	if ((r = packet_key_sizes(cipher, mac, &keylen, &ivlen, &mackeylen,
	    &block)) != 0)
		return r;
	if ((r = kex_derive_one(t, k, base, ivlen, &iv)) != 0 ||
	    (r = kex_derive_one(t, k, (char)(base + 2), keylen, &key)) != 0 ||
	    (r = kex_derive_one(t, k, (char)(base + 4), mackeylen, &mk)) != 0)
		goto out;
	/* Our sending direction is client-to-server for a client. */
	r = packet_keys_new(cipher, buf_ptr(key), buf_len(key), buf_ptr(iv),
	    buf_len(iv), mac, buf_ptr(mk), buf_len(mk), kex_comp(comp),
	    ctos != t->server, kp);
 out:
	buf_free(iv);
	buf_free(key);
	buf_free(mk);
	return r;
}

/* H is known: fix the session id, derive keys, send NEWKEYS. */
static int
kex_finish_hash(struct transport *t, struct kex *k)
{
	struct buf *p;
	int r;

	if (t->session_id_len == 0) {
		memcpy(t->session_id, k->hash, k->hashlen);
		t->session_id_len = k->hashlen;
	}
	if ((r = kex_derive_dir(t, k, !t->server, &k->next_send)) != 0 ||
	    (r = kex_derive_dir(t, k, t->server, &k->next_recv)) != 0)
		return r;
	if ((r = transport_send_internal(t, TRANSPORT_MSG_NEWKEYS, &p)) != 0 ||
	    (r = transport_send(t)) != 0)
		return r;
	packet_set_send_keys(t->pkt, k->next_send, t->strict);
	k->next_send = NULL;
	k->sent_newkeys = 1;
	k->expect = TRANSPORT_MSG_NEWKEYS;
	if (t->server && t->kex_count == 0 && t->peer_ext_info &&
	    (r = transport_send_ext_info(t)) != 0)
		return r;
	return transport_flush_held(t);
}

static unsigned int
kex_sig_flags(const char *alg)
{
	return transport_hostkey_alg_legacy(alg) ? KEY_SIG_ALLOW_SHA1 : 0;
}

/*
 * Server: the signature of H with host key hk, by the configured callback
 * (the key may be public) or by the key itself.  A callback's answer is
 * verified before it goes out: a broken or confused signer ends this key
 * exchange with a reason instead of a client-side failure.
 */
static int
kex_sign(struct transport *t, struct kex *k, const struct key *hk,
    const char *alg, struct buf *sig)
{
	int r;

	/* A certificate algorithm signs with its key's algorithm. */
	if ((alg = transport_hostkey_alg_sigalg(alg)) == NULL)
		return FERR_INTERNAL;
	if (t->hostkey_sign == NULL)
		return key_sign(hk, alg, k->hash, k->hashlen,
		    kex_sig_flags(alg), sig);
	if ((r = t->hostkey_sign(hk, alg, k->hash, k->hashlen, sig,
	    t->hostkey_sign_ctx)) != 0)
		return transport_fail(t, r, TRANSPORT_DISC_KEX_FAILED,
		    "host key signature failed");
	if ((r = key_verify(hk, buf_ptr(sig), buf_len(sig), k->hash,
	    k->hashlen, alg, kex_sig_flags(alg))) != 0)
		return transport_fail(t, r, TRANSPORT_DISC_KEX_FAILED,
		    "host key signer returned an invalid signature");
	return 0;
}

/*
 * Server: sign H with the host key and send the reply: string K_S, then
 * the server's public value (a string Q_S, or an mpint f), then the
 * signature.
 */
static int
kex_server_reply(struct transport *t, struct kex *k, uint8_t msg,
    const struct buf *kblob, const BIGNUM *f)
{
	const char *alg = k->names[TRANSPORT_ALG_HOSTKEY];
	struct key *hk = kex_server_hostkey(t, alg, NULL);
	struct buf *sig = NULL, *p;
	int r;

	if (hk == NULL)
		return FERR_NO_HOSTKEY_MATCH;
	if ((sig = buf_new()) == NULL)
		return FERR_ALLOC;
	if ((r = kex_sign(t, k, hk, alg, sig)) != 0)
		goto out;
	if ((r = transport_send_internal(t, msg, &p)) != 0 ||
	    (r = buf_put_stringb(p, kblob)) != 0 ||
	    (r = (f != NULL ? buf_put_mpint(p, f) :
	    buf_put_stringb(p, k->my_pub))) != 0 ||
	    (r = buf_put_stringb(p, sig)) != 0 ||
	    (r = transport_send(t)) != 0)
		goto out;
	r = kex_finish_hash(t, k);
 out:
	buf_free(sig);
	return r;
}

/* The parts of H every method shares. */
static void
kex_hash_input(struct transport *t, struct kex *k, const struct buf *kblob,
    struct buf *vc, struct buf *vs, struct kex_hash_input *in)
{
	in->client_version = vc;
	in->server_version = vs;
	in->client_kexinit = t->server ? k->peer_kexinit : k->my_kexinit;
	in->server_kexinit = t->server ? k->my_kexinit : k->peer_kexinit;
	in->server_hostkey = kblob;
}

/*
 * Compute K and H for the method of k.  peer_pub is the peer's raw
 * ECDH/curve25519 value, peer_bn its DH value.
 */
static int
kex_compute(struct transport *t, struct kex *k, const struct buf *kblob,
    const struct buf *peer_pub, const BIGNUM *peer_bn)
{
	const char *cv = t->server ? t->peer_version : t->my_version;
	const char *sv = t->server ? t->my_version : t->peer_version;
	struct buf *vc = buf_from(cv, strlen(cv)), *vs = buf_from(sv, strlen(sv));
	struct kex_hash_input in;
	const BIGNUM *mine;
	int r;

	if (vc == NULL || vs == NULL || (k->shared = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	buf_set_secret(k->shared);
	kex_hash_input(t, k, kblob, vc, vs, &in);
	switch (k->alg->kind) {
	case KEXALG_CURVE25519:
		if ((r = kex_curve25519_shared(k->c25519, buf_ptr(peer_pub),
		    buf_len(peer_pub), k->shared)) != 0)
			goto out;
		r = kex_kdf_hash_ecdh(k->alg->hash_alg, &in,
		    t->server ? peer_pub : k->my_pub,
		    t->server ? k->my_pub : peer_pub, k->shared, k->hash,
		    k->hashlen);
		break;
	case KEXALG_ECDH:
		if ((r = kex_ecdh_shared(k->ecdh, buf_ptr(peer_pub),
		    buf_len(peer_pub), k->shared)) != 0)
			goto out;
		r = kex_kdf_hash_ecdh(k->alg->hash_alg, &in,
		    t->server ? peer_pub : k->my_pub,
		    t->server ? k->my_pub : peer_pub, k->shared, k->hash,
		    k->hashlen);
		break;
	case KEXALG_DH:
	case KEXALG_GEX:
		if ((r = kex_dh_shared(k->dh, peer_bn, k->shared)) != 0)
			goto out;
		mine = kex_dh_public(k->dh);
		if (k->alg->kind == KEXALG_DH)
			r = kex_kdf_hash_dh(k->alg->hash_alg, &in,
			    t->server ? peer_bn : mine,
			    t->server ? mine : peer_bn, k->shared, k->hash,
			    k->hashlen);
		else
			r = kex_kdf_hash_gex(k->alg->hash_alg, &in, &k->req,
			    k->grp, t->server ? peer_bn : mine,
			    t->server ? mine : peer_bn, k->shared, k->hash,
			    k->hashlen);
		break;
	default:
		r = FERR_INTERNAL;
		break;
	}
 out:
	buf_free(vc);
	buf_free(vs);
	return r;
}

/* ---- the method steps ---- */

/* Server, ECDH or curve25519: string Q_C. */
static int
kex_server_ecdh_init(struct transport *t, struct kex *k, struct buf *m)
{
	struct buf *q = NULL, *kblob = NULL;
	struct key *hk = NULL;
	int r;

	if ((r = buf_froms(m, &q)) != 0 || (r = buf_expect_end(m)) != 0)
		goto out;
	if ((k->my_pub = buf_new()) == NULL || (kblob = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if (k->alg->kind == KEXALG_CURVE25519) {
		if ((r = kex_curve25519_keygen(&k->c25519)) == 0)
			r = kex_curve25519_public(k->c25519, k->my_pub);
	} else {
		if ((r = kex_ecdh_keygen(k->alg->param, &k->ecdh)) == 0)
			r = kex_ecdh_public(k->ecdh, k->my_pub);
	}
	if (r != 0 || (r = kex_server_hostkey_blob(t,
	    k->names[TRANSPORT_ALG_HOSTKEY], &hk, kblob)) != 0 ||
	    (r = kex_compute(t, k, kblob, q, NULL)) != 0)
		goto out;
	r = kex_server_reply(t, k, KEX_MSG_ECDH_REPLY, kblob, NULL);
 out:
	buf_free(q);
	buf_free(kblob);
	return r;
}

/* Server, fixed-group DH or GEX_INIT: mpint e. */
static int
kex_server_dh_init(struct transport *t, struct kex *k, struct buf *m)
{
	struct key *hk = kex_server_hostkey(t, k->names[TRANSPORT_ALG_HOSTKEY],
	    NULL);
	struct buf *kblob = NULL;
	BIGNUM *e = NULL;
	int r;

	if ((r = buf_get_mpint(m, &e)) != 0 || (r = buf_expect_end(m)) != 0)
		goto out;
	if (hk == NULL) {
		r = FERR_NO_HOSTKEY_MATCH;
		goto out;
	}
	if (k->grp == NULL &&
	    (r = kex_dh_group_builtin(k->alg->param, &k->grp)) != 0)
		goto out;
	if ((r = kex_dh_keygen(k->grp, k->need_bits, &k->dh)) != 0)
		goto out;
	if ((kblob = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = kex_server_hostkey_blob(t, k->names[TRANSPORT_ALG_HOSTKEY],
	    &hk, kblob)) != 0 ||
	    (r = kex_compute(t, k, kblob, NULL, e)) != 0)
		goto out;
	r = kex_server_reply(t, k, k->alg->kind == KEXALG_GEX ?
	    KEX_MSG_GEX_REPLY : KEX_MSG_ECDH_REPLY, kblob, kex_dh_public(k->dh));
 out:
	BN_free(e);
	buf_free(kblob);
	return r;
}

/* Server, GEX_REQUEST: uint32 min, n, max; answer with a group. */
static int
kex_server_gex_request(struct transport *t, struct kex *k, struct buf *m)
{
	struct kex_gex_request bounds;
	struct buf *p;
	int r;

	if ((r = buf_get_u32(m, &k->req.min)) != 0 ||
	    (r = buf_get_u32(m, &k->req.nbits)) != 0 ||
	    (r = buf_get_u32(m, &k->req.max)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		return r;
	if ((r = kex_dh_gex_server_clamp(&k->req, &bounds)) != 0 ||
	    (r = kex_moduli_choose_from(t->moduli_text, t->moduli_file,
	    bounds.min, bounds.nbits, bounds.max, &k->grp)) != 0)
		return r;
	if ((r = transport_send_internal(t, KEX_MSG_ECDH_REPLY, &p)) != 0 ||
	    (r = buf_put_mpint(p, kex_dh_group_p(k->grp))) != 0 ||
	    (r = buf_put_mpint(p, kex_dh_group_g(k->grp))) != 0)
		return r;
	k->expect = KEX_MSG_GEX_INIT;
	return transport_send(t);
}

/* Client, GEX_GROUP: mpint p, mpint g; answer with GEX_INIT. */
static int
kex_client_gex_group(struct transport *t, struct kex *k, struct buf *m)
{
	BIGNUM *p = NULL, *g = NULL;
	int r;

	if ((r = buf_get_mpint(m, &p)) != 0 || (r = buf_get_mpint(m, &g)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		goto out;
	if ((r = kex_dh_group_new(p, g, &k->grp)) != 0 ||
	    (r = kex_dh_gex_check_group(&k->req, k->grp)) != 0 ||
	    (r = kex_dh_keygen(k->grp, k->need_bits, &k->dh)) != 0)
		goto out;
	k->expect = KEX_MSG_GEX_REPLY;
	r = kex_send_public(t, KEX_MSG_GEX_INIT, NULL, kex_dh_public(k->dh));
 out:
	BN_free(p);
	BN_free(g);
	return r;
}

/*
 * Client: parse K_S for the negotiated algorithm alg (a key, or for a
 * certificate algorithm a certificate of the same key type, its CA
 * signature verified) and have the callbacks check it.  *hkp gets the
 * key that signs the exchange hash.
 */
static int
kex_client_hostkey(struct transport *t, const char *alg,
    const struct buf *kblob, struct key **hkp)
{
	struct key_cert *cert = NULL;
	struct key *hk = NULL;
	int r, iscert = transport_hostkey_alg_is_cert(alg);

	*hkp = NULL;
	if (iscert) {
		if ((r = key_cert_from_blob(buf_ptr(kblob), buf_len(kblob),
		    &cert)) != 0) {
			r = transport_fail(t, r, TRANSPORT_DISC_KEX_FAILED,
			    "invalid host certificate for %s", alg);
			goto out;
		}
		if ((r = key_demote(cert->key, &hk)) != 0)
			goto out;
	} else if ((r = key_from_blob_mem(buf_ptr(kblob), buf_len(kblob),
	    &hk)) != 0)
		goto out;
	if ((int)key_get_type(hk) != transport_hostkey_alg_type(alg)) {
		r = transport_fail(t, FERR_KEY_TYPE_MISMATCH,
		    TRANSPORT_DISC_KEX_FAILED,
		    "host key type does not match the negotiated %s", alg);
		goto out;
	}
	/*
	 * Without a certificate check the certified key is judged as a
	 * plain host key: it is the key that signs the exchange hash.
	 */
	if (iscert && t->hostcert_check != NULL)
		r = t->hostcert_check(cert, t->hostkey_ctx);
	else if (t->hostkey_check != NULL)
		r = t->hostkey_check(hk, t->hostkey_ctx);
	if (r != 0) {
		r = transport_fail(t, r, TRANSPORT_DISC_HOST_KEY_NOT_VERIFIABLE,
		    "host key verification failed");
		goto out;
	}
	*hkp = hk;
	hk = NULL;
 out:
	key_cert_free(cert);
	key_free(hk);
	return r;
}

/*
 * Client, the reply of any method: string K_S, the server's value
 * (string Q_S or mpint f), string signature of H.
 */
static int
kex_client_reply(struct transport *t, struct kex *k, struct buf *m)
{
	const char *alg = k->names[TRANSPORT_ALG_HOSTKEY];
	struct buf *kblob = NULL, *q = NULL;
	const uint8_t *sig;
	struct key *hk = NULL;
	BIGNUM *f = NULL;
	size_t siglen;
	int r, ecdh = k->alg->kind == KEXALG_CURVE25519 ||
	    k->alg->kind == KEXALG_ECDH;

	if ((r = buf_froms(m, &kblob)) != 0 ||
	    (r = (ecdh ? buf_froms(m, &q) : buf_get_mpint(m, &f))) != 0 ||
	    (r = buf_get_string_direct(m, &sig, &siglen)) != 0 ||
	    (r = buf_expect_end(m)) != 0)
		goto out;
	if ((r = kex_client_hostkey(t, alg, kblob, &hk)) != 0)
		goto out;
	if ((r = kex_compute(t, k, kblob, q, f)) != 0)
		goto out;
	if ((r = key_verify(hk, sig, siglen, k->hash, k->hashlen,
	    transport_hostkey_alg_sigalg(alg), kex_sig_flags(alg))) != 0) {
		r = transport_fail(t, r, TRANSPORT_DISC_KEX_FAILED,
		    "host key signature over the exchange hash is invalid");
		goto out;
	}
	key_free(t->server_hostkey);
	t->server_hostkey = hk;
	hk = NULL;
	r = kex_finish_hash(t, k);
 out:
	key_free(hk);
	BN_free(f);
	buf_free(kblob);
	buf_free(q);
	return r;
}

typedef int kex_step_fn(struct transport *, struct kex *, struct buf *);

/* Which handler takes which message, by method kind and role. */
static const struct kex_step {
	enum kexalg_kind kind;
	int server;
	uint8_t msg;
	kex_step_fn *fn;
} kex_steps[] = {
	{ KEXALG_CURVE25519, 1, KEX_MSG_ECDH_INIT, kex_server_ecdh_init },
	{ KEXALG_CURVE25519, 0, KEX_MSG_ECDH_REPLY, kex_client_reply },
	{ KEXALG_ECDH, 1, KEX_MSG_ECDH_INIT, kex_server_ecdh_init },
	{ KEXALG_ECDH, 0, KEX_MSG_ECDH_REPLY, kex_client_reply },
	{ KEXALG_DH, 1, KEX_MSG_ECDH_INIT, kex_server_dh_init },
	{ KEXALG_DH, 0, KEX_MSG_ECDH_REPLY, kex_client_reply },
	{ KEXALG_GEX, 1, KEX_MSG_GEX_REQUEST, kex_server_gex_request },
	{ KEXALG_GEX, 0, KEX_MSG_ECDH_REPLY, kex_client_gex_group },
	{ KEXALG_GEX, 1, KEX_MSG_GEX_INIT, kex_server_dh_init },
	{ KEXALG_GEX, 0, KEX_MSG_GEX_REPLY, kex_client_reply },
};

int
kex_msg_expected(const struct transport *t, uint8_t msg)
{
	const struct kex *k = t->kex;

	if (k == NULL)
		return 0;
	if (msg == TRANSPORT_MSG_KEXINIT)
		return !k->got_kexinit;
	return k->got_kexinit && (msg == k->expect ||
	    (k->ignore_guess && msg >= 30 && msg <= 49));
}

int
kex_recv_method(struct transport *t, uint8_t msg, struct buf *payload)
{
	struct kex *k = t->kex;
	size_t i;
	int r;

	if (k == NULL || !k->got_kexinit)
		return transport_fail(t, FERR_PROTOCOL,
		    TRANSPORT_DISC_PROTOCOL_ERROR,
		    "key exchange message %u outside a key exchange", msg);
	if (k->ignore_guess) {
		/* The peer guessed wrong: its first method packet is void. */
		k->ignore_guess = 0;
		log_debug("kex: the peer's guessed packet (message %u) is "
		    "ignored", msg);
		return 0;
	}
	if (msg != k->expect)
		return transport_fail(t, FERR_PROTOCOL,
		    TRANSPORT_DISC_PROTOCOL_ERROR,
		    "unexpected key exchange message %u (expected %u)", msg,
		    k->expect);
	for (i = 0; i < sizeof(kex_steps) / sizeof(kex_steps[0]); i++) {
		if (kex_steps[i].kind != k->alg->kind ||
		    kex_steps[i].server != t->server || kex_steps[i].msg != msg)
			continue;
		k->expect = 0;
		if ((r = kex_steps[i].fn(t, k, payload)) != 0 && !t->closed)
			r = transport_fail(t, r, TRANSPORT_DISC_KEX_FAILED,
			    "key exchange failed");
		return r;
	}
	return transport_fail(t, FERR_PROTOCOL, TRANSPORT_DISC_PROTOCOL_ERROR,
	    "key exchange message %u is not part of %s", msg, k->alg->name);
}

int
kex_recv_newkeys(struct transport *t, struct buf *payload)
{
	struct kex *k = t->kex;
	size_t i;

	if (k == NULL || k->next_recv == NULL || k->got_newkeys ||
	    buf_expect_end(payload) != 0)
		return transport_fail(t, FERR_PROTOCOL,
		    TRANSPORT_DISC_PROTOCOL_ERROR, "unexpected NEWKEYS");
	packet_set_recv_keys(t->pkt, k->next_recv, t->strict);
	k->next_recv = NULL;
	k->got_newkeys = 1;
	if (!k->sent_newkeys)
		return 0;
	for (i = 0; i < TRANSPORT_NALG; i++) {
		free(t->names[i]);
		t->names[i] = k->names[i];
		k->names[i] = NULL;
	}
	t->kex_count++;
	kex_free(k);
	t->kex = NULL;
	return 1;
}
