/*
 * The binary packet protocol (RFC 4253 section 6).  See packet.h.
 *
 * Packet layout: uint32 packet_length, byte padding_length, payload,
 * padding, then the MAC or AEAD tag.  For encrypt-then-MAC and AEAD modes
 * the length travels unencrypted (or, for chacha20-poly1305, encrypted
 * with its own key) and authenticates before anything is decrypted; for
 * the classic encrypt-and-MAC modes the first block is decrypted to learn
 * the length, which is checked against the caps before any allocation.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <zlib.h>

#include "cipher.h"
#include "ferry/buf.h"
#include "ferry/err.h"
#include "mac.h"
#include "packet.h"

/* Without keys: no cipher, block size 8 (RFC 4253 6). */
#define PACKET_PLAIN_BLOCK	8
#define PACKET_MIN_PADDING	4
/* Smallest whole packet we send, length field included (RFC 4253 6). */
#define PACKET_MIN_TOTAL	16
/*
 * Smallest packet_length accepted: a type byte and four bytes of padding.
 * Block alignment is checked separately; AEAD and etm modes do not count
 * the length field in it, so OpenSSH sends 12-byte packets there.
 */
#define PACKET_MIN_LENGTH	(1 + PACKET_MIN_PADDING)

struct packet_zlib {
	z_stream z;
	int active;		/* deflateInit/inflateInit done */
};

struct packet_keys {
	const struct cipher_alg *cipher;
	struct cipher_ctx *cctx;
	const struct mac_alg *mac;	/* NULL for AEAD ciphers */
	struct mac_ctx *mctx;
	size_t block;		/* cipher block size, at least 8 */
	size_t authlen;		/* AEAD tag length */
	size_t maclen;		/* MAC tag length */
	int etm;		/* MAC over ciphertext, length in the clear */
	int encrypt;
	enum packet_comp comp;
	/* Copies of the key material, for packet_export (secret). */
	uint8_t key[CIPHER_KEY_MAX];
	size_t keylen;
	uint8_t mackey[MAC_KEY_MAX];
	size_t mackeylen;
};

struct packet {
	struct buf *in;		/* received, not yet framed bytes */
	struct buf *out;	/* encrypted bytes to send */
	struct buf *pkt;	/* outgoing packet under construction */
	struct buf *view;	/* read-only view of the last payload */
	struct buf *zbuf;	/* compression scratch for sending */
	struct buf *zrecv;	/* decompressed received payload */
	struct packet_keys *send, *recv;
	/*
	 * zlib streams: each set of keys starts them afresh, as OpenSSH
	 * does at every NEWKEYS; delayed compression starts them at the
	 * first packet after authentication.
	 */
	struct packet_zlib zsend, zrecvs;
	int after_auth;		/* delayed compression may run */
	uint32_t send_seq, recv_seq;
	uint64_t send_bytes, recv_bytes;
	size_t pending;		/* bytes of in to drop before the next read */
	uint32_t in_plen;	/* packet_length of the packet being read */
	int in_have_len;	/* first block decrypted, in_plen valid */
	int building;		/* packet_start done, packet_send pending */
	int rdead;		/* a read error: nothing more is framed */
	int wdead;		/* a send error: nothing more is sent */
};

struct packet *
packet_new(void)
{
	struct packet *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if ((p->in = buf_new()) == NULL || (p->out = buf_new()) == NULL ||
	    (p->pkt = buf_new()) == NULL || (p->zbuf = buf_new()) == NULL ||
	    (p->zrecv = buf_new()) == NULL ||
	    (p->view = buf_from(NULL, 0)) == NULL ||
	    buf_set_max_size(p->in, PACKET_BUF_MAX) != 0 ||
	    buf_set_max_size(p->out, PACKET_BUF_MAX) != 0 ||
	    buf_set_max_size(p->pkt, PACKET_MAX_SIZE + 64) != 0) {
		packet_free(p);
		return NULL;
	}
	return p;
}


void
packet_keys_free(struct packet_keys *k)
{
	if (k == NULL)
		return;
	cipher_free(k->cctx);
	mac_free(k->mctx);
	explicit_bzero(k, sizeof(*k));
	free(k);
}

void
packet_free(struct packet *p)
{
	if (p == NULL)
		return;
	buf_free(p->in);
	buf_free(p->out);
	buf_free(p->pkt);
	buf_free(p->view);
	buf_free(p->zbuf);
	buf_free(p->zrecv);
	packet_keys_free(p->send);
	packet_keys_free(p->recv);
	if (p->zsend.active)
		deflateEnd(&p->zsend.z);
	if (p->zrecvs.active)
		inflateEnd(&p->zrecvs.z);
	free(p);
}

struct buf *
packet_input(struct packet *p)
{
	return p->in;
}

struct buf *
packet_output(struct packet *p)
{
	return p->out;
}

int
packet_key_sizes(const char *cipher_name, const char *mac_name,
    size_t *keylen, size_t *ivlen, size_t *mackeylen, size_t *blocksize)
{
	const struct cipher_alg *c;
	const struct mac_alg *m;

	if ((c = cipher_by_name(cipher_name)) == NULL)
		return FERR_NOT_SUPPORTED;
	*keylen = cipher_keylen(c);
	*ivlen = cipher_ivlen(c);
	*blocksize = cipher_blocksize(c);
	*mackeylen = 0;
	if (cipher_authlen(c) != 0)
		return 0;
	if (mac_name == NULL || (m = mac_by_name(mac_name, 1)) == NULL)
		return FERR_NOT_SUPPORTED;
	*mackeylen = mac_keylen(m);
	return 0;
}

/* Whether keys k compress now, starting the stream on first use. */
static int
packet_zlib_on(struct packet *p, const struct packet_keys *k, int sending)
{
	struct packet_zlib *zs = sending ? &p->zsend : &p->zrecvs;
	int zr;

	if (k == NULL || k->comp == PACKET_COMP_NONE ||
	    (k->comp == PACKET_COMP_ZLIB_DELAYED && !p->after_auth))
		return 0;
	if (zs->active)
		return 1;
	memset(&zs->z, 0, sizeof(zs->z));
	zr = sending ? deflateInit(&zs->z, Z_DEFAULT_COMPRESSION) :
	    inflateInit(&zs->z);
	if (zr != Z_OK)
		return -1;
	zs->active = 1;
	return 1;
}

int
packet_keys_new(const char *cipher_name, const uint8_t *key, size_t keylen,
    const uint8_t *iv, size_t ivlen, const char *mac_name,
    const uint8_t *mackey, size_t mackeylen, enum packet_comp comp,
    int encrypt, struct packet_keys **kp)
{
	struct packet_keys *k;
	int r;

	*kp = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return FERR_ALLOC;
	k->encrypt = encrypt;
	k->comp = comp;
	if (keylen > sizeof(k->key) || mackeylen > sizeof(k->mackey)) {
		r = FERR_KEY_LENGTH;
		goto out;
	}
	if ((k->cipher = cipher_by_name(cipher_name)) == NULL) {
		r = FERR_NOT_SUPPORTED;
		goto out;
	}
	if ((r = cipher_init(&k->cctx, k->cipher, key, keylen, iv, ivlen,
	    encrypt)) != 0)
		goto out;
	k->block = cipher_blocksize(k->cipher);
	if (k->block < PACKET_PLAIN_BLOCK)
		k->block = PACKET_PLAIN_BLOCK;
	k->authlen = cipher_authlen(k->cipher);
	if (k->authlen == 0) {
		if (mac_name == NULL || (k->mac = mac_by_name(mac_name, 1)) == NULL) {
			r = FERR_NOT_SUPPORTED;
			goto out;
		}
		if ((r = mac_init(&k->mctx, k->mac, mackey, mackeylen)) != 0)
			goto out;
		k->maclen = mac_taglen(k->mac);
		k->etm = mac_is_etm(k->mac);
		if (mackeylen != 0)
			memcpy(k->mackey, mackey, mackeylen);
		k->mackeylen = mackeylen;
	}
	if (keylen != 0)
		memcpy(k->key, key, keylen);
	k->keylen = keylen;
	*kp = k;
	k = NULL;
 out:
	packet_keys_free(k);
	return r;
}

void
packet_set_send_keys(struct packet *p, struct packet_keys *k, int reset_seq)
{
	if (p->zsend.active) {
		deflateEnd(&p->zsend.z);
		p->zsend.active = 0;
	}
	packet_keys_free(p->send);
	p->send = k;
	p->send_bytes = 0;
	if (reset_seq)
		p->send_seq = 0;
}

void
packet_set_recv_keys(struct packet *p, struct packet_keys *k, int reset_seq)
{
	if (p->zrecvs.active) {
		inflateEnd(&p->zrecvs.z);
		p->zrecvs.active = 0;
	}
	packet_keys_free(p->recv);
	p->recv = k;
	p->recv_bytes = 0;
	if (reset_seq)
		p->recv_seq = 0;
}

void
packet_start_delayed_compression(struct packet *p)
{
	p->after_auth = 1;
}

int
packet_start(struct packet *p, uint8_t type, struct buf **payloadp)
{
	int r;

	*payloadp = NULL;
	if (p->wdead)
		return FERR_CONN_CLOSED;
	buf_reset(p->pkt);
	/* Length and padding length are back-filled by packet_send. */
	if ((r = buf_put_u32(p->pkt, 0)) != 0 ||
	    (r = buf_put_u8(p->pkt, 0)) != 0 ||
	    (r = buf_put_u8(p->pkt, type)) != 0)
		return r;
	p->building = 1;
	*payloadp = p->pkt;
	return 0;
}

/* Deflate the payload of pkt (after the 5-byte header) in place. */
static int
packet_compress(struct packet *p)
{
	z_stream *z = &p->zsend.z;
	uint8_t *dst;
	size_t room = 4096;
	int r, zr;

	buf_reset(p->zbuf);
	z->next_in = (uint8_t *)buf_ptr(p->pkt) + 5;
	z->avail_in = (uInt)(buf_len(p->pkt) - 5);
	do {
		if ((r = buf_reserve(p->zbuf, room, &dst)) != 0)
			return r;
		z->next_out = dst;
		z->avail_out = (uInt)room;
		zr = deflate(z, Z_PARTIAL_FLUSH);
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			return FERR_INTERNAL;
		if ((r = buf_consume_end(p->zbuf, z->avail_out)) != 0)
			return r;
	} while (z->avail_out == 0);
	if ((r = buf_consume_end(p->pkt, buf_len(p->pkt) - 5)) != 0)
		return r;
	return buf_putb(p->pkt, p->zbuf);
}

int
packet_send(struct packet *p)
{
	struct packet_keys *k = p->send;
	size_t block = k != NULL ? k->block : PACKET_PLAIN_BLOCK;
	size_t aadlen, padlen, total, tail, unpadded;
	uint8_t *pad, *dst;
	int r;

	if (!p->building || p->wdead)
		return FERR_INTERNAL;
	p->building = 0;
	if (buf_len(p->pkt) - 5 > PACKET_MAX_PAYLOAD)
		return FERR_STRING_TOO_LARGE;
	switch (packet_zlib_on(p, k, 1)) {
	case 0:
		break;
	case 1:
		if ((r = packet_compress(p)) != 0)
			return r;
		break;
	default:
		return FERR_ALLOC;
	}
	aadlen = (k != NULL && (k->authlen != 0 || k->etm)) ? 4 : 0;
	/* Pad so that what gets encrypted is a multiple of the block size. */
	unpadded = buf_len(p->pkt) - aadlen;
	padlen = block - (unpadded % block);
	if (padlen < PACKET_MIN_PADDING)
		padlen += block;
	if (buf_len(p->pkt) + padlen < PACKET_MIN_TOTAL)
		padlen += block;
	if ((r = buf_reserve(p->pkt, padlen, &pad)) != 0)
		return r;
	if (k == NULL)
		memset(pad, 0, padlen);
	else if (RAND_bytes(pad, (int)padlen) != 1)
		return FERR_LIBCRYPTO;
	total = buf_len(p->pkt);
	if (total - 4 > PACKET_MAX_SIZE)
		return FERR_STRING_TOO_LARGE;
	if ((r = buf_poke_u32(p->pkt, 0, (uint32_t)(total - 4))) != 0 ||
	    (r = buf_poke_u8(p->pkt, 4, (uint8_t)padlen)) != 0)
		return r;
	tail = k != NULL ? k->authlen + k->maclen : 0;
	if ((r = buf_reserve(p->out, total + tail, &dst)) != 0)
		return r;
	if (k == NULL) {
		memcpy(dst, buf_ptr(p->pkt), total);
	} else {
		if ((r = cipher_crypt(k->cctx, p->send_seq, dst,
		    buf_ptr(p->pkt), total - aadlen, aadlen, k->authlen)) != 0)
			goto fail;
		/* encrypt-and-MAC covers the plaintext, etm the ciphertext. */
		if (k->mac != NULL && (r = mac_compute(k->mctx, p->send_seq,
		    k->etm ? dst : buf_ptr(p->pkt), total, dst + total,
		    k->maclen)) != 0)
			goto fail;
	}
	p->send_seq++;
	p->send_bytes += total + tail;
	buf_reset(p->pkt);
	return 0;
 fail:
	p->wdead = 1;
	return r;
}

/* Learn packet_length from the first bytes of the next packet. */
static int
packet_read_length(struct packet *p)
{
	struct packet_keys *k = p->recv;
	size_t block = k != NULL ? k->block : PACKET_PLAIN_BLOCK;
	size_t need, aadlen;
	uint8_t *ptr;
	int r;

	aadlen = (k != NULL && (k->authlen != 0 || k->etm)) ? 4 : 0;
	need = aadlen != 0 ? 4 : block;
	if (buf_len(p->in) < need)
		return FERR_WOULD_BLOCK;
	if ((ptr = buf_mutable_ptr(p->in)) == NULL)
		return FERR_INTERNAL;
	if (k == NULL) {
		if ((r = buf_peek_u32(p->in, 0, &p->in_plen)) != 0)
			return r;
	} else if (aadlen != 0) {
		if ((r = cipher_get_length(k->cctx, &p->in_plen, p->recv_seq,
		    ptr, buf_len(p->in))) != 0)
			return r;
	} else {
		/* Decrypt the first block in place; the rest follows later. */
		if ((r = cipher_crypt(k->cctx, p->recv_seq, ptr, ptr, block,
		    0, 0)) != 0)
			return r;
		if ((r = buf_peek_u32(p->in, 0, &p->in_plen)) != 0)
			return r;
	}
	if (p->in_plen < PACKET_MIN_LENGTH || p->in_plen > PACKET_MAX_SIZE)
		return FERR_PROTOCOL;
	/* What is encrypted must be whole blocks. */
	if (((aadlen != 0 ? 0 : 4) + p->in_plen) % block != 0)
		return FERR_PROTOCOL;
	p->in_have_len = 1;
	return 0;
}

/* Authenticate and decrypt the whole packet in place. */
static int
packet_open(struct packet *p, uint8_t *ptr, size_t total)
{
	struct packet_keys *k = p->recv;
	size_t block = k->block;

	if (k->authlen != 0)
		return cipher_crypt(k->cctx, p->recv_seq, ptr, ptr, total - 4, 4,
		    k->authlen);
	if (k->etm) {
		/* Nothing is decrypted before the MAC over it verifies. */
		if (mac_check(k->mctx, p->recv_seq, ptr, total, ptr + total,
		    k->maclen) != 0)
			return FERR_MAC_INVALID;
		return cipher_crypt(k->cctx, p->recv_seq, ptr + 4, ptr + 4,
		    total - 4, 0, 0);
	}
	if (total > block && cipher_crypt(k->cctx, p->recv_seq, ptr + block,
	    ptr + block, total - block, 0, 0) != 0)
		return FERR_INTERNAL;
	if (mac_check(k->mctx, p->recv_seq, ptr, total, ptr + total,
	    k->maclen) != 0)
		return FERR_MAC_INVALID;
	return 0;
}

/* Inflate the received payload into zrecv, refusing more than a packet. */
static int
packet_decompress(struct packet *p, const uint8_t *src, size_t len)
{
	z_stream *z = &p->zrecvs.z;
	uint8_t *dst;
	size_t room = 16384;
	int r, zr;

	buf_reset(p->zrecv);
	z->next_in = (uint8_t *)src;
	z->avail_in = (uInt)len;
	for (;;) {
		if (buf_len(p->zrecv) > PACKET_MAX_SIZE)
			return FERR_PROTOCOL;	/* a decompression bomb */
		if ((r = buf_reserve(p->zrecv, room, &dst)) != 0)
			return r;
		z->next_out = dst;
		z->avail_out = (uInt)room;
		zr = inflate(z, Z_SYNC_FLUSH);
		if ((r = buf_consume_end(p->zrecv, z->avail_out)) != 0)
			return r;
		if (zr == Z_BUF_ERROR)
			break;		/* all input used, no more output */
		if (zr != Z_OK)
			return FERR_PROTOCOL;
		if (z->avail_out != 0)
			break;
	}
	return buf_len(p->zrecv) > PACKET_MAX_SIZE ? FERR_PROTOCOL : 0;
}

int
packet_read(struct packet *p, uint8_t *typep, struct buf **payloadp)
{
	struct packet_keys *k = p->recv;
	size_t total, tail, paylen;
	const uint8_t *payload;
	uint8_t *ptr, padlen;
	int r;

	*payloadp = NULL;
	*typep = 0;
	if (p->rdead)
		return FERR_CONN_CLOSED;
	if (p->pending != 0) {
		if ((r = buf_consume(p->in, p->pending)) != 0)
			goto fail;
		p->pending = 0;
	}
	if (!p->in_have_len && (r = packet_read_length(p)) != 0) {
		if (r == FERR_WOULD_BLOCK)
			return r;
		goto fail;
	}
	total = 4 + (size_t)p->in_plen;
	tail = k != NULL ? k->authlen + k->maclen : 0;
	if (buf_len(p->in) < total + tail)
		return FERR_WOULD_BLOCK;
	if ((ptr = buf_mutable_ptr(p->in)) == NULL) {
		r = FERR_INTERNAL;
		goto fail;
	}
	if (k != NULL && (r = packet_open(p, ptr, total)) != 0)
		goto fail;
	padlen = ptr[4];
	if (padlen < PACKET_MIN_PADDING || padlen >= p->in_plen - 1) {
		r = FERR_PROTOCOL;	/* short padding or an empty payload */
		goto fail;
	}
	paylen = p->in_plen - padlen - 1;
	payload = ptr + 5;
	p->recv_seq++;
	p->recv_bytes += total + tail;
	p->pending = total + tail;
	p->in_have_len = 0;
	if ((r = packet_zlib_on(p, k, 0)) < 0) {
		r = FERR_ALLOC;
		goto fail;
	}
	if (r == 1) {
		if ((r = packet_decompress(p, payload, paylen)) != 0)
			goto fail;
		payload = buf_ptr(p->zrecv);
		if ((paylen = buf_len(p->zrecv)) == 0) {
			r = FERR_PROTOCOL;
			goto fail;
		}
	}
	*typep = payload[0];
	if ((r = buf_set_view(p->view, payload + 1, paylen - 1)) != 0)
		goto fail;
	*payloadp = p->view;
	return 0;
 fail:
	p->rdead = 1;
	return r;
}

uint32_t
packet_send_seq(const struct packet *p)
{
	return p->send_seq;
}

uint32_t
packet_recv_seq(const struct packet *p)
{
	return p->recv_seq;
}

uint64_t
packet_send_bytes(const struct packet *p)
{
	return p->send_bytes;
}

uint64_t
packet_recv_bytes(const struct packet *p)
{
	return p->recv_bytes;
}

/* What a block size allows under one key (OpenSSH's rule). */
static uint64_t
packet_block_limit(const struct packet_keys *k)
{
	if (k == NULL)
		return UINT64_MAX;
	if (k->block >= 16)
		return ((uint64_t)1 << (k->block * 2)) * k->block;
	return (uint64_t)1 << 30;
}

uint64_t
packet_rekey_limit(const struct packet *p)
{
	uint64_t a = packet_block_limit(p->send), b = packet_block_limit(p->recv);

	return a < b ? a : b;
}

int
packet_have_send_keys(const struct packet *p)
{
	return p->send != NULL;
}

/* ---- handing the layer to another process ---- */

/* Bytes of a packet's start that packet_read_length has consumed. */
static size_t
packet_length_part(const struct packet_keys *k)
{
	if (k->authlen != 0 || k->etm)
		return 4;
	return k->block;
}

static int
packet_export_keys(struct packet_keys *k, struct buf *out)
{
	uint8_t iv[CIPHER_IV_MAX];
	int r;

	if ((r = cipher_get_iv(k->cctx, iv, sizeof(iv))) != 0)
		goto out;
	if ((r = buf_put_string(out, k->key, k->keylen)) != 0 ||
	    (r = buf_put_string(out, iv, cipher_ivlen(k->cipher))) != 0 ||
	    (r = buf_put_string(out, k->mackey, k->mackeylen)) != 0)
		goto out;
 out:
	explicit_bzero(iv, sizeof(iv));
	return r;
}


int
packet_export(struct packet *p, struct buf *out)
{
	size_t inlen;
	int r;

	if (p->rdead || p->wdead)
		return FERR_CONN_CLOSED;
	if (p->building || buf_len(p->out) != 0 || p->send == NULL ||
	    p->recv == NULL)
		return FERR_WOULD_BLOCK;
	/*
	 * A zlib stream cannot travel.  Delayed compression that is due
	 * (after authentication) but has not started in either direction
	 * can: the importer starts both streams fresh, as this engine
	 * would have (fsshd hands over right after USERAUTH_SUCCESS).
	 */
	if (p->send->comp == PACKET_COMP_ZLIB ||
	    p->recv->comp == PACKET_COMP_ZLIB ||
	    p->zsend.active || p->zrecvs.active)
		return FERR_NOT_SUPPORTED;
	/* The last payload handed out (pending) is done with. */
	inlen = buf_len(p->in) - p->pending;
	if ((r = buf_put_u32(out, p->send_seq)) != 0 ||
	    (r = buf_put_u32(out, p->recv_seq)) != 0 ||
	    (r = buf_put_u64(out, p->send_bytes)) != 0 ||
	    (r = buf_put_u64(out, p->recv_bytes)) != 0 ||
	    (r = packet_export_keys(p->send, out)) != 0 ||
	    (r = packet_export_keys(p->recv, out)) != 0 ||
	    (r = buf_put_u8(out, p->in_have_len ? 1 : 0)) != 0 ||
	    (r = buf_put_u32(out, p->in_have_len ? p->in_plen : 0)) != 0 ||
	    (r = buf_put_string(out, buf_ptr(p->in) + p->pending, inlen)) != 0)
		return r;
	return 0;
}

/* One direction's keys: names from the transport, material from b. */
static int
packet_import_keys(struct buf *b, const char *const names[3], int encrypt,
    struct packet_keys **kp)
{
	const uint8_t *key, *iv, *mk;
	size_t keylen, ivlen, mklen;
	enum packet_comp comp;
	int r;

	*kp = NULL;
	if ((r = buf_get_string_direct(b, &key, &keylen)) != 0 ||
	    (r = buf_get_string_direct(b, &iv, &ivlen)) != 0 ||
	    (r = buf_get_string_direct(b, &mk, &mklen)) != 0)
		return r;
	if (strcmp(names[2], "none") == 0)
		comp = PACKET_COMP_NONE;
	else if (strcmp(names[2], "zlib@openssh.com") == 0)
		comp = PACKET_COMP_ZLIB_DELAYED;
	else
		return FERR_FORMAT;	/* packet_export never lets it through */
	/* packet_keys_new checks every length against the algorithms. */
	if ((r = packet_keys_new(names[0], key, keylen, iv, ivlen, names[1],
	    mk, mklen, comp, encrypt, kp)) != 0)
		return r == FERR_ALLOC || r == FERR_LIBCRYPTO ? r : FERR_FORMAT;
	if ((*kp)->mackeylen != mklen) {
		/* An AEAD cipher takes no MAC key: none may be given. */
		packet_keys_free(*kp);
		*kp = NULL;
		return FERR_FORMAT;
	}
	return 0;
}

int
packet_import(struct packet *p, struct buf *b, const char *const send[3],
    const char *const recv[3], int after_auth)
{
	const uint8_t *in;
	size_t inlen, part;
	uint8_t have_len;
	uint32_t plen;
	int r;

	if (p->send != NULL || p->recv != NULL || buf_len(p->in) != 0 ||
	    buf_len(p->out) != 0)
		return FERR_ARGUMENT;
	if ((r = buf_get_u32(b, &p->send_seq)) != 0 ||
	    (r = buf_get_u32(b, &p->recv_seq)) != 0 ||
	    (r = buf_get_u64(b, &p->send_bytes)) != 0 ||
	    (r = buf_get_u64(b, &p->recv_bytes)) != 0 ||
	    (r = packet_import_keys(b, send, 1, &p->send)) != 0 ||
	    (r = packet_import_keys(b, recv, 0, &p->recv)) != 0 ||
	    (r = buf_get_u8(b, &have_len)) != 0 ||
	    (r = buf_get_u32(b, &plen)) != 0 ||
	    (r = buf_get_string_direct(b, &in, &inlen)) != 0)
		return r;
	p->after_auth = after_auth;
	if (have_len > 1 || (!have_len && plen != 0))
		return FERR_FORMAT;
	if (have_len) {
		/* What packet_read_length would have accepted, and read. */
		part = packet_length_part(p->recv);
		if (plen < PACKET_MIN_LENGTH || plen > PACKET_MAX_SIZE ||
		    ((part == 4 ? 0 : 4) + plen) % p->recv->block != 0 ||
		    inlen < part)
			return FERR_FORMAT;
		p->in_have_len = 1;
		p->in_plen = plen;
	}
	return buf_put(p->in, in, inlen);
}
