/*
 * The key exchange algorithm table: each SSH name with its hash, kind,
 * parameter (curve or group) and whether it is a legacy algorithm that
 * is only used when configured explicitly.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/obj_mac.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "digest.h"
#include "kexalg.h"

static const struct kexalg kexalg_table[] = {
	{ "curve25519-sha256", KEXALG_CURVE25519, DIGEST_SHA256, 0, 0 },
	{ "curve25519-sha256@libssh.org", KEXALG_CURVE25519, DIGEST_SHA256,
	    0, 0 },
	{ "ecdh-sha2-nistp256", KEXALG_ECDH, DIGEST_SHA256,
	    NID_X9_62_prime256v1, 0 },
	{ "ecdh-sha2-nistp384", KEXALG_ECDH, DIGEST_SHA384, NID_secp384r1, 0 },
	{ "ecdh-sha2-nistp521", KEXALG_ECDH, DIGEST_SHA512, NID_secp521r1, 0 },
	{ "diffie-hellman-group-exchange-sha256", KEXALG_GEX, DIGEST_SHA256,
	    0, 0 },
	{ "diffie-hellman-group16-sha512", KEXALG_DH, DIGEST_SHA512,
	    KEX_DH_GROUP16, 0 },
	{ "diffie-hellman-group18-sha512", KEXALG_DH, DIGEST_SHA512,
	    KEX_DH_GROUP18, 0 },
	{ "diffie-hellman-group14-sha256", KEXALG_DH, DIGEST_SHA256,
	    KEX_DH_GROUP14, 0 },
	{ "diffie-hellman-group14-sha1", KEXALG_DH, DIGEST_SHA1,
	    KEX_DH_GROUP14, 1 },
	{ "diffie-hellman-group1-sha1", KEXALG_DH, DIGEST_SHA1,
	    KEX_DH_GROUP1, 1 },
};

#define KEXALG_COUNT	(sizeof(kexalg_table) / sizeof(kexalg_table[0]))

const struct kexalg *
kexalg_by_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < KEXALG_COUNT; i++) {
		if (strcmp(kexalg_table[i].name, name) == 0)
			return &kexalg_table[i];
	}
	return NULL;
}

int
kexalg_names_valid(const char *list)
{
	const char *p, *comma;
	char name[64];
	size_t len;

	if (list == NULL || *list == '\0')
		return FERR_FORMAT;
	for (p = list;; p = comma + 1) {
		comma = strchr(p, ',');
		len = comma == NULL ? strlen(p) : (size_t)(comma - p);
		if (len == 0)
			return FERR_FORMAT;
		if (len >= sizeof(name))
			return FERR_NOT_SUPPORTED;
		memcpy(name, p, len);
		name[len] = '\0';
		if (kexalg_by_name(name) == NULL)
			return FERR_NOT_SUPPORTED;
		if (comma == NULL)
			return 0;
	}
}

char *
kexalg_names(int include_legacy)
{
	struct buf *b;
	char *s = NULL;
	size_t i;
	int first = 1;

	if ((b = buf_new()) == NULL)
		return NULL;
	for (i = 0; i < KEXALG_COUNT; i++) {
		if (kexalg_table[i].legacy && !include_legacy)
			continue;
		if (buf_putf(b, "%s%s", first ? "" : ",",
		    kexalg_table[i].name) != 0)
			goto out;
		first = 0;
	}
	s = buf_dup_string(b);
 out:
	buf_free(b);
	return s;
}

/* ---- one ephemeral key of any kind ---- */

struct kexalg_key {
	const struct kexalg *alg;
	struct kex_curve25519 *c25519;
	struct kex_ecdh *ecdh;
	struct kex_dh *dh;
};

int
kexalg_key_new(const struct kexalg *alg, const struct kex_dh_group *gex_group,
    unsigned int need_bits, struct kexalg_key **kp)
{
	struct kexalg_key *k;
	struct kex_dh_group *grp = NULL;
	int r;

	if (kp == NULL || alg == NULL)
		return FERR_ARGUMENT;
	*kp = NULL;
	if ((alg->kind == KEXALG_GEX) != (gex_group != NULL))
		return FERR_ARGUMENT;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return FERR_ALLOC;
	k->alg = alg;
	switch (alg->kind) {
	case KEXALG_CURVE25519:
		r = kex_curve25519_keygen(&k->c25519);
		break;
	case KEXALG_ECDH:
		r = kex_ecdh_keygen(alg->param, &k->ecdh);
		break;
	case KEXALG_DH:
		if ((r = kex_dh_group_builtin(alg->param, &grp)) == 0)
			r = kex_dh_keygen(grp, need_bits, &k->dh);
		kex_dh_group_free(grp);
		break;
	case KEXALG_GEX:
		r = kex_dh_keygen(gex_group, need_bits, &k->dh);
		break;
	default:
		r = FERR_INTERNAL;
		break;
	}
	if (r != 0) {
		kexalg_key_free(k);
		return r;
	}
	*kp = k;
	return 0;
}

int
kexalg_key_public(const struct kexalg_key *k, struct buf *out)
{
	size_t off;
	int r;

	if (k == NULL || out == NULL)
		return FERR_ARGUMENT;
	if (k->dh != NULL)
		return buf_put_mpint(out, kex_dh_public(k->dh));
	if ((r = buf_begin_string(out, &off)) != 0)
		return r;
	if (k->c25519 != NULL)
		r = kex_curve25519_public(k->c25519, out);
	else if (k->ecdh != NULL)
		r = kex_ecdh_public(k->ecdh, out);
	else
		r = FERR_INTERNAL;
	if (r != 0) {
		/* Drop the half-written string. */
		if (buf_consume_end(out, buf_len(out) - off) != 0)
			r = FERR_INTERNAL;
		return r;
	}
	return buf_end_string(out, off);
}

int
kexalg_key_shared(const struct kexalg_key *k, struct buf *msg,
    struct buf *peer_wire, struct buf *K)
{
	const uint8_t *p;
	BIGNUM *bn = NULL;
	uint32_t len;
	size_t len_before;
	int r;

	if (k == NULL || msg == NULL || K == NULL)
		return FERR_ARGUMENT;
	/* Both wire forms are a uint32 length and that many bytes. */
	if ((r = buf_peek_u32(msg, 0, &len)) != 0)
		return r;
	if (len > buf_len(msg) - 4)
		return FERR_INCOMPLETE;
	len_before = peer_wire == NULL ? 0 : buf_len(peer_wire);
	if (peer_wire != NULL &&
	    (r = buf_put(peer_wire, buf_ptr(msg), 4 + (size_t)len)) != 0)
		return r;
	if (k->dh != NULL) {
		if ((r = buf_get_mpint(msg, &bn)) == 0)
			r = kex_dh_shared(k->dh, bn, K);
		BN_free(bn);
	} else if ((r = buf_get_string_direct(msg, &p, NULL)) == 0) {
		if (k->c25519 != NULL)
			r = kex_curve25519_shared(k->c25519, p, len, K);
		else if (k->ecdh != NULL)
			r = kex_ecdh_shared(k->ecdh, p, len, K);
		else
			r = FERR_INTERNAL;
	}
	if (r != 0 && peer_wire != NULL &&
	    buf_consume_end(peer_wire, buf_len(peer_wire) - len_before) != 0)
		r = FERR_INTERNAL;
	return r;
}

void
kexalg_key_free(struct kexalg_key *k)
{
	if (k == NULL)
		return;
	kex_curve25519_free(k->c25519);
	kex_ecdh_free(k->ecdh);
	kex_dh_free(k->dh);
	free(k);
}

/* Read one wire-form mpint that must fill all of wire. */
static int
kexalg_wire_mpint(const struct buf *wire, BIGNUM **bnp)
{
	struct buf *b;
	int r;

	*bnp = NULL;
	if ((b = buf_from(buf_ptr(wire), buf_len(wire))) == NULL)
		return FERR_ALLOC;
	if ((r = buf_get_mpint(b, bnp)) == 0 && (r = buf_expect_end(b)) != 0) {
		BN_free(*bnp);
		*bnp = NULL;
	}
	buf_free(b);
	return r;
}

/* The body of one wire-form string that must fill all of wire. */
static int
kexalg_wire_string(const struct buf *wire, struct buf **bodyp)
{
	struct buf *b;
	const uint8_t *p;
	size_t len;
	int r;

	*bodyp = NULL;
	if ((b = buf_from(buf_ptr(wire), buf_len(wire))) == NULL)
		return FERR_ALLOC;
	if ((r = buf_get_string_direct(b, &p, &len)) == 0 &&
	    (r = buf_expect_end(b)) == 0 &&
	    (*bodyp = buf_from(p, len)) == NULL)
		r = FERR_ALLOC;
	buf_free(b);
	return r;
}

int
kexalg_exchange_hash(const struct kexalg *alg,
    const struct kex_hash_input *in, const struct kex_gex_request *req,
    const struct kex_dh_group *grp, const struct buf *client_pub,
    const struct buf *server_pub, const struct buf *shared, uint8_t *out,
    size_t outlen)
{
	struct buf *qc = NULL, *qs = NULL;
	BIGNUM *e = NULL, *f = NULL;
	int r;

	if (alg == NULL || client_pub == NULL || server_pub == NULL)
		return FERR_ARGUMENT;
	switch (alg->kind) {
	case KEXALG_CURVE25519:
	case KEXALG_ECDH:
		if ((r = kexalg_wire_string(client_pub, &qc)) == 0 &&
		    (r = kexalg_wire_string(server_pub, &qs)) == 0)
			r = kex_kdf_hash_ecdh(alg->hash_alg, in, qc, qs, shared,
			    out, outlen);
		break;
	case KEXALG_DH:
	case KEXALG_GEX:
		if ((r = kexalg_wire_mpint(client_pub, &e)) != 0 ||
		    (r = kexalg_wire_mpint(server_pub, &f)) != 0)
			break;
		if (alg->kind == KEXALG_DH)
			r = kex_kdf_hash_dh(alg->hash_alg, in, e, f, shared,
			    out, outlen);
		else
			r = kex_kdf_hash_gex(alg->hash_alg, in, req, grp, e, f,
			    shared, out, outlen);
		break;
	default:
		r = FERR_INTERNAL;
		break;
	}
	buf_free(qc);
	buf_free(qs);
	BN_free(e);
	BN_free(f);
	return r;
}
