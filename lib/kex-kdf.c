/*
 * The exchange hash H (RFC 4253 section 8, RFC 4419 section 3, RFC 5656
 * section 4, RFC 8731) and the key derivation of RFC 4253 section 7.2.
 *
 * H is computed over a struct buf holding exactly the encoding the RFCs
 * list, so what is hashed can be inspected and tested byte for byte.
 * Derived keys live in secret buffers, wiped when freed.
 */
#include "config.h"

#include <string.h>

#include <openssl/bn.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "digest.h"
#include "kexalg.h"

/* string V_C, string V_S, string I_C, string I_S, string K_S */
static int
kex_kdf_put_common(struct buf *b, const struct kex_hash_input *in)
{
	int r;

	if (in == NULL || in->client_version == NULL ||
	    in->server_version == NULL || in->client_kexinit == NULL ||
	    in->server_kexinit == NULL || in->server_hostkey == NULL)
		return FERR_ARGUMENT;
	if ((r = buf_put_stringb(b, in->client_version)) != 0 ||
	    (r = buf_put_stringb(b, in->server_version)) != 0 ||
	    (r = buf_put_stringb(b, in->client_kexinit)) != 0 ||
	    (r = buf_put_stringb(b, in->server_kexinit)) != 0 ||
	    (r = buf_put_stringb(b, in->server_hostkey)) != 0)
		return r;
	return 0;
}

/* Append the mpint-encoded K, hash the whole buffer and free it. */
static int
kex_kdf_finish(int hash_alg, struct buf *b, const struct buf *shared,
    uint8_t *out, size_t outlen)
{
	int r;

	if (shared == NULL || buf_len(shared) < 4) {
		r = FERR_ARGUMENT;
		goto out;
	}
	if ((r = buf_putb(b, shared)) != 0 ||
	    (r = digest_buffer(hash_alg, b, out, outlen)) != 0)
		goto out;
 out:
	buf_free(b);
	return r;
}

/* A new buffer for the hash input, which includes K: secret. */
static struct buf *
kex_kdf_hash_buf(void)
{
	struct buf *b;

	if ((b = buf_new()) != NULL)
		buf_set_secret(b);
	return b;
}

int
kex_kdf_hash_ecdh(int hash_alg, const struct kex_hash_input *in,
    const struct buf *client_pub, const struct buf *server_pub,
    const struct buf *shared, uint8_t *out, size_t outlen)
{
	struct buf *b;
	int r;

	if (client_pub == NULL || server_pub == NULL ||
	    digest_bytes(hash_alg) == 0 || out == NULL)
		return FERR_ARGUMENT;
	if ((b = kex_kdf_hash_buf()) == NULL)
		return FERR_ALLOC;
	if ((r = kex_kdf_put_common(b, in)) != 0 ||
	    (r = buf_put_stringb(b, client_pub)) != 0 ||
	    (r = buf_put_stringb(b, server_pub)) != 0) {
		buf_free(b);
		return r;
	}
	return kex_kdf_finish(hash_alg, b, shared, out, outlen);
}

int
kex_kdf_hash_dh(int hash_alg, const struct kex_hash_input *in,
    const BIGNUM *e, const BIGNUM *f, const struct buf *shared,
    uint8_t *out, size_t outlen)
{
	struct buf *b;
	int r;

	if (e == NULL || f == NULL || digest_bytes(hash_alg) == 0 ||
	    out == NULL)
		return FERR_ARGUMENT;
	if ((b = kex_kdf_hash_buf()) == NULL)
		return FERR_ALLOC;
	if ((r = kex_kdf_put_common(b, in)) != 0 ||
	    (r = buf_put_mpint(b, e)) != 0 ||
	    (r = buf_put_mpint(b, f)) != 0) {
		buf_free(b);
		return r;
	}
	return kex_kdf_finish(hash_alg, b, shared, out, outlen);
}

int
kex_kdf_hash_gex(int hash_alg, const struct kex_hash_input *in,
    const struct kex_gex_request *req, const struct kex_dh_group *grp,
    const BIGNUM *e, const BIGNUM *f, const struct buf *shared,
    uint8_t *out, size_t outlen)
{
	struct buf *b;
	int r;

	if (req == NULL || grp == NULL || e == NULL || f == NULL ||
	    digest_bytes(hash_alg) == 0 || out == NULL)
		return FERR_ARGUMENT;
	if ((b = kex_kdf_hash_buf()) == NULL)
		return FERR_ALLOC;
	if ((r = kex_kdf_put_common(b, in)) != 0 ||
	    (r = buf_put_u32(b, req->min)) != 0 ||
	    (r = buf_put_u32(b, req->nbits)) != 0 ||
	    (r = buf_put_u32(b, req->max)) != 0 ||
	    (r = buf_put_mpint(b, kex_dh_group_p(grp))) != 0 ||
	    (r = buf_put_mpint(b, kex_dh_group_g(grp))) != 0 ||
	    (r = buf_put_mpint(b, e)) != 0 ||
	    (r = buf_put_mpint(b, f)) != 0) {
		buf_free(b);
		return r;
	}
	return kex_kdf_finish(hash_alg, b, shared, out, outlen);
}

int
kex_kdf_derive(int hash_alg, const struct buf *shared, const uint8_t *hash,
    size_t hashlen, const uint8_t *session_id, size_t session_id_len,
    char which, size_t need, struct buf **keyp)
{
	struct digest_ctx *ctx = NULL;
	struct buf *key = NULL;
	uint8_t block[DIGEST_MAX_BYTES];
	size_t mdlen, take;
	uint8_t letter = (uint8_t)which;
	int r;

	if (keyp == NULL)
		return FERR_ARGUMENT;
	*keyp = NULL;
	if ((mdlen = digest_bytes(hash_alg)) == 0 || shared == NULL ||
	    hash == NULL || hashlen == 0 || session_id == NULL ||
	    session_id_len == 0 || which < 'A' || which > 'F' || need == 0 ||
	    need > KEX_KDF_MAX_NEED)
		return FERR_ARGUMENT;
	if ((key = buf_new()) == NULL)
		return FERR_ALLOC;
	buf_set_secret(key);
	/* Reserve the final size up front so the key is never moved. */
	if ((r = buf_allocate(key, need + mdlen)) != 0)
		goto out;
	/* K1 = HASH(K || H || X || session_id) */
	if ((r = digest_init(hash_alg, &ctx)) != 0 ||
	    (r = digest_update_buffer(ctx, shared)) != 0 ||
	    (r = digest_update(ctx, hash, hashlen)) != 0 ||
	    (r = digest_update(ctx, &letter, 1)) != 0 ||
	    (r = digest_update(ctx, session_id, session_id_len)) != 0 ||
	    (r = digest_final(ctx, block, sizeof(block))) != 0)
		goto out;
	/* Kn = HASH(K || H || K1 || ... || Kn-1) until there is enough. */
	for (;;) {
		take = need - buf_len(key) < mdlen ? need - buf_len(key) :
		    mdlen;
		if ((r = buf_put(key, block, take)) != 0)
			goto out;
		if (buf_len(key) >= need)
			break;
		digest_free(ctx);
		ctx = NULL;
		if ((r = digest_init(hash_alg, &ctx)) != 0 ||
		    (r = digest_update_buffer(ctx, shared)) != 0 ||
		    (r = digest_update(ctx, hash, hashlen)) != 0 ||
		    (r = digest_update_buffer(ctx, key)) != 0 ||
		    (r = digest_final(ctx, block, sizeof(block))) != 0)
			goto out;
	}
	*keyp = key;
	key = NULL;
	r = 0;
 out:
	explicit_bzero(block, sizeof(block));
	digest_free(ctx);
	buf_free(key);
	return r;
}
