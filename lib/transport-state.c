/*
 * Export and import of a live transport (see ferry/transport.h): what a
 * process needs to carry on a connection that another process began.
 * fsshd's sandboxed pre-authentication child exports; the process that
 * serves the user after authentication imports.
 *
 * The blob, version 1, in SSH encodings (RFC 4251: big-endian integers,
 * uint32-length strings):
 *
 *	string	"ferry-transport-state-v1"
 *	byte	role: 1 server, 0 client
 *	string	our identification line, without CR LF
 *	string	the peer's identification line
 *	string	the 8 negotiated names, enum transport_alg order ("" for
 *		the MAC of an AEAD cipher)
 *	string	session identifier
 *	uint32	key exchanges completed (at least 1)
 *	byte	strict kex
 *	byte	the peer offered ext-info
 *	byte	authentication done (transport_auth_done)
 *	byte	client: server-sig-algs received; string its value, or ""
 *	string	client: the server's host key blob, or ""
 *	uint64	when the last key exchange started (time_t, two's complement)
 *	then the packet layer (packet_export in packet.c): sequence numbers,
 *	byte counters, each direction's key, current IV and MAC key, and
 *	the received bytes not yet processed.
 *
 * The blob crosses a process boundary from the less trusted side, so
 * import is strict: every flag 0 or 1, every name known, every length
 * right for its algorithm, names consistent with one another, nothing
 * after the end.  Anything else is FERR_FORMAT, never a guess.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cipher.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "kexalg.h"
#include "mac.h"
#include "packet.h"
#include "transport-int.h"

#define STATE_MAGIC		"ferry-transport-state-v1"
/*
 * An identification line without its end: RFC 4253 4.2 allows 255 bytes
 * with CR LF, which is what we send; a peer's line that ends in LF alone
 * (transport_version accepts it) may have 254.
 */
#define STATE_VERSION_MAX	253
#define STATE_PEER_VERSION_MAX	254
/* Shortest session id: SHA-1's. */
#define STATE_SID_MIN		20
/* Longest server-sig-algs kept (it came in one packet). */
#define STATE_SIG_ALGS_MAX	PACKET_MAX_SIZE

static int
state_put_flag(struct buf *b, int v)
{
	return buf_put_u8(b, v ? 1 : 0);
}

/* A flag must be exactly 0 or 1: the encoding is canonical. */
static int
state_get_flag(struct buf *b, int *v)
{
	uint8_t u;
	int r;

	if ((r = buf_get_u8(b, &u)) != 0)
		return r;
	if (u > 1)
		return FERR_FORMAT;
	*v = u;
	return 0;
}

int
transport_export(struct transport *t, struct buf *out)
{
	const char *ssa = t->server ? NULL : t->server_sig_algs;
	size_t start = buf_len(out), i;
	struct buf *kb = NULL;
	int r;

	if (t->closed)
		return FERR_CONN_CLOSED;
	if (!t->version_done || t->kex_count == 0 || t->kex != NULL ||
	    t->upper_held || buf_len(t->queue) != 0)
		return FERR_WOULD_BLOCK;
	buf_set_secret(out);
	if ((kb = buf_new()) == NULL)
		return FERR_ALLOC;
	if (!t->server && t->server_hostkey != NULL &&
	    (r = key_to_blob(t->server_hostkey, kb)) != 0)
		goto out;
	if ((r = buf_put_cstring(out, STATE_MAGIC)) != 0 ||
	    (r = state_put_flag(out, t->server)) != 0 ||
	    (r = buf_put_cstring(out, t->my_version)) != 0 ||
	    (r = buf_put_cstring(out, t->peer_version)) != 0)
		goto out;
	for (i = 0; i < TRANSPORT_NALG; i++)
		if ((r = buf_put_cstring(out, t->names[i] != NULL ?
		    t->names[i] : "")) != 0)
			goto out;
	if ((r = buf_put_string(out, t->session_id, t->session_id_len)) != 0 ||
	    (r = buf_put_u32(out, t->kex_count)) != 0 ||
	    (r = state_put_flag(out, t->strict)) != 0 ||
	    (r = state_put_flag(out, t->peer_ext_info)) != 0 ||
	    (r = state_put_flag(out, t->auth_done)) != 0 ||
	    (r = state_put_flag(out, ssa != NULL)) != 0 ||
	    (r = buf_put_cstring(out, ssa != NULL ? ssa : "")) != 0 ||
	    (r = buf_put_stringb(out, kb)) != 0 ||
	    (r = buf_put_u64(out, (uint64_t)(int64_t)t->kex_started)) != 0 ||
	    (r = packet_export(t->pkt, out)) != 0)
		goto out;
	/*
	 * The connection now belongs to whoever imports the blob: this
	 * engine must never encrypt again, or two processes would use one
	 * key stream.
	 */
	t->closed = 1;
	snprintf(t->error, sizeof(t->error), "state exported");
 out:
	if (r != 0 && buf_len(out) > start &&
	    buf_consume_end(out, buf_len(out) - start) != 0)
		r = FERR_INTERNAL;
	buf_free(kb);
	return r;
}

/*
 * An identification line as transport_version() accepts a peer's (no
 * NUL, which buf_get_cstring rejects, and no LF), or as we send ours
 * (printable ASCII).
 */
static int
state_version_ok(const char *v, size_t len, int ours)
{
	size_t i;

	if (len > (ours ? STATE_VERSION_MAX : STATE_PEER_VERSION_MAX))
		return 0;
	if (!(len >= 8 && memcmp(v, "SSH-2.0-", 8) == 0) &&
	    (ours || !(len >= 9 && memcmp(v, "SSH-1.99-", 9) == 0)))
		return 0;
	for (i = 0; i < len; i++)
		if (v[i] == '\n' || (ours && (v[i] < 0x20 || v[i] > 0x7e)))
			return 0;
	return 1;
}

static int
state_kex_ok(const char *n)
{
	return kexalg_by_name(n) != NULL;
}

static int
state_hostkey_ok(const char *n)
{
	return transport_hostkey_alg_type(n) >= 0;
}

static int
state_cipher_ok(const char *n)
{
	return cipher_by_name(n) != NULL;
}

/* Checked against the cipher in state_names_consistent. */
static int
state_mac_ok(const char *n)
{
	(void)n;
	return 1;
}

/* Plain "zlib" runs from NEWKEYS on: transport_export refuses it. */
static int
state_comp_ok(const char *n)
{
	return strcmp(n, "none") == 0 || strcmp(n, "zlib@openssh.com") == 0;
}

/* Validators of the names, enum transport_alg order. */
static int (*const state_name_ok[TRANSPORT_NALG])(const char *) = {
	state_kex_ok, state_hostkey_ok, state_cipher_ok, state_cipher_ok,
	state_mac_ok, state_mac_ok, state_comp_ok, state_comp_ok,
};

/* An AEAD cipher has no MAC; any other cipher has a known one. */
static int
state_names_consistent(char *const names[TRANSPORT_NALG])
{
	size_t i;

	for (i = 0; i < 2; i++) {
		const struct cipher_alg *c =
		    cipher_by_name(names[TRANSPORT_ALG_CIPHER_CTOS + i]);
		const char *m = names[TRANSPORT_ALG_MAC_CTOS + i];

		if (c == NULL || names[TRANSPORT_ALG_COMP_CTOS + i] == NULL)
			return 0;
		if (cipher_is_aead(c) ? m != NULL :
		    (m == NULL || mac_by_name(m, 1) == NULL))
			return 0;
	}
	return names[TRANSPORT_ALG_KEX] != NULL &&
	    names[TRANSPORT_ALG_HOSTKEY] != NULL;
}

static int
state_get_names(struct transport *t, struct buf *b)
{
	char *s;
	size_t i, len;
	int r;

	for (i = 0; i < TRANSPORT_NALG; i++) {
		if ((r = buf_get_cstring(b, &s, &len)) != 0)
			return r;
		if (len == 0) {
			free(s);
			continue;
		}
		t->names[i] = s;
		if (!state_name_ok[i](s))
			return FERR_FORMAT;
	}
	return state_names_consistent(t->names) ? 0 : FERR_FORMAT;
}

/* Our line and the peer's, which every later exchange hash covers. */
static int
state_get_versions(struct transport *t, struct buf *b)
{
	char *mine = NULL, *peer = NULL;
	size_t mlen, plen;
	int r;

	if ((r = buf_get_cstring(b, &mine, &mlen)) != 0 ||
	    (r = buf_get_cstring(b, &peer, &plen)) != 0)
		goto out;
	if (!state_version_ok(mine, mlen, 1) ||
	    !state_version_ok(peer, plen, 0)) {
		r = FERR_FORMAT;
		goto out;
	}
	free(t->my_version);
	t->my_version = mine;
	t->peer_version = peer;
	mine = peer = NULL;
 out:
	free(mine);
	free(peer);
	return r;
}

/* The client's view of the server: server-sig-algs and the host key. */
static int
state_get_server_info(struct transport *t, struct buf *b)
{
	const uint8_t *kblob;
	char *ssa = NULL;
	size_t len;
	int have, r;

	if ((r = state_get_flag(b, &have)) != 0 ||
	    (r = buf_get_cstring(b, &ssa, &len)) != 0 ||
	    (r = buf_get_string_direct(b, &kblob, &len)) != 0)
		goto out;
	if ((t->server && (have || len != 0)) || (!have && ssa[0] != '\0') ||
	    strlen(ssa) > STATE_SIG_ALGS_MAX) {
		r = FERR_FORMAT;
		goto out;
	}
	if (len != 0) {
		if ((r = key_from_blob_mem(kblob, len, &t->server_hostkey)) != 0)
			goto out;
		if ((int)key_get_type(t->server_hostkey) !=
		    transport_hostkey_alg_type(t->names[TRANSPORT_ALG_HOSTKEY])) {
			r = FERR_FORMAT;
			goto out;
		}
	}
	if (have) {
		t->server_sig_algs = ssa;
		ssa = NULL;
	}
 out:
	free(ssa);
	return r;
}

static int
state_parse(struct transport *t, struct buf *b)
{
	const char *send[3], *recv[3];
	const uint8_t *p;
	uint64_t started;
	size_t len, i, dir;
	int server, r;

	if ((r = buf_get_string_direct(b, &p, &len)) != 0)
		return r;
	if (len != strlen(STATE_MAGIC) || memcmp(p, STATE_MAGIC, len) != 0)
		return FERR_FORMAT;
	if ((r = state_get_flag(b, &server)) != 0)
		return r;
	if (server != (t->server != 0))
		return FERR_FORMAT;
	if ((r = state_get_versions(t, b)) != 0 ||
	    (r = state_get_names(t, b)) != 0 ||
	    (r = buf_get_string_direct(b, &p, &len)) != 0)
		return r;
	if (len < STATE_SID_MIN || len > sizeof(t->session_id))
		return FERR_FORMAT;
	memcpy(t->session_id, p, len);
	t->session_id_len = len;
	if ((r = buf_get_u32(b, &t->kex_count)) != 0 ||
	    (r = state_get_flag(b, &t->strict)) != 0 ||
	    (r = state_get_flag(b, &t->peer_ext_info)) != 0 ||
	    (r = state_get_flag(b, &t->auth_done)) != 0 ||
	    (r = state_get_server_info(t, b)) != 0 ||
	    (r = buf_get_u64(b, &started)) != 0)
		return r;
	if (t->kex_count == 0)
		return FERR_FORMAT;
	t->kex_started = (time_t)(int64_t)started;
	/* Our sending direction is server-to-client for a server. */
	dir = t->server ? 1 : 0;
	for (i = 0; i < 3; i++) {
		send[i] = t->names[TRANSPORT_ALG_CIPHER_CTOS + 2 * i + dir];
		recv[i] = t->names[TRANSPORT_ALG_CIPHER_CTOS + 2 * i + !dir];
	}
	if ((r = packet_import(t->pkt, b, send, recv, t->auth_done)) != 0 ||
	    (r = buf_expect_end(b)) != 0)
		return r;
	t->version_done = 1;
	return 0;
}

int
transport_import(const struct transport_config *cfg, const uint8_t *blob,
    size_t len, struct transport **tp)
{
	struct transport *t = NULL;
	struct buf *b = NULL;
	int r;

	*tp = NULL;
	if ((r = transport_setup(cfg, &t)) != 0)
		return r;
	/* A read-only view: no copy of the secrets is made. */
	if ((b = buf_from(blob, len)) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = state_parse(t, b)) != 0) {
		if (r != FERR_ALLOC && r != FERR_LIBCRYPTO)
			r = FERR_FORMAT;
		goto out;
	}
	*tp = t;
	t = NULL;
 out:
	buf_free(b);
	transport_free(t);
	return r;
}
