/*
 * transport_export / transport_import: a live connection handed to a
 * fresh engine mid-stream, for every cipher x MAC, with input already
 * buffered (whole packets and one whose length was already read), then
 * rekeys started by either side; delayed compression started after the
 * hand-over; the refusals of export; hostile blobs.
 *
 * FERRY_WRITE_STATE_SEEDS=DIR writes every blob for the fuzz corpus.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/transport.h"
#include "tap.h"
#include "test-transport-pair.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))

static const char *ciphers[] = {
	"chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com",
	"aes256-gcm@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr",
};
static const char *macs[] = {
	"hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com",
	"hmac-sha2-256", "hmac-sha2-512", "umac-64-etm@openssh.com",
	"umac-128-etm@openssh.com", "umac-64@openssh.com", "umac-128@openssh.com",
	"hmac-sha1", "hmac-sha1-etm@openssh.com",
};

static const char *seed_dir;
static int seed_count;

/* Both ends' configurations, kept to import with. */
struct conn {
	struct side c, s;
	struct transport_config cc, sc;
	EVP_MD_CTX *ctx_hash, *stc_hash;	/* what each side sent */
	uint64_t ctx_bytes, stc_bytes;
	unsigned int n;				/* messages sent so far */
};

static void
conn_new(struct conn *k, const char *cipher, const char *mac,
    const char *comp)
{
	memset(k, 0, sizeof(*k));
	side_init(&k->c);
	side_init(&k->s);
	k->cc.kex_algorithms = "curve25519-sha256";
	k->cc.hostkey_algorithms = "ssh-ed25519";
	k->cc.ciphers = cipher;
	k->cc.macs = mac;
	k->cc.compression = comp;
	k->sc = k->cc;
	k->sc.server = 1;
	k->sc.hostkeys = hostkeys;
	k->sc.nhostkeys = nhostkeys;
	if ((k->ctx_hash = EVP_MD_CTX_new()) == NULL ||
	    (k->stc_hash = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(k->ctx_hash, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(k->stc_hash, EVP_sha256(), NULL) != 1 ||
	    transport_new(&k->cc, &k->c.t) != 0 ||
	    transport_new(&k->sc, &k->s.t) != 0)
		abort();
}

static void
conn_free(struct conn *k)
{
	side_free(&k->c);
	side_free(&k->s);
	EVP_MD_CTX_free(k->ctx_hash);
	EVP_MD_CTX_free(k->stc_hash);
}

/* One message from a side, of a size and content that vary with n. */
static int
conn_send(struct conn *k, int from_client, size_t size)
{
	uint8_t d[8192];
	size_t i;

	if (size > sizeof(d))
		size = sizeof(d);
	for (i = 0; i < size; i++)
		d[i] = (uint8_t)(k->n * 31 + i * 7);
	k->n++;
	EVP_DigestUpdate(from_client ? k->ctx_hash : k->stc_hash, d, size);
	if (from_client)
		k->ctx_bytes += size;
	else
		k->stc_bytes += size;
	return send_data(from_client ? &k->c : &k->s, d, size);
}

/* A few messages each way of assorted sizes, then pump. */
static int
conn_exchange(struct conn *k, int rounds)
{
	int i;

	for (i = 0; i < rounds; i++)
		if (conn_send(k, 1, 1 + (size_t)(i * 397) % 3000) != 0 ||
		    conn_send(k, 0, 1 + (size_t)(i * 211) % 2000) != 0)
			return -1;
	pump(&k->c, &k->s);
	return 0;
}

/* Whether everything each side sent arrived, byte-exact, and no error. */
static int
conn_exact(struct conn *k)
{
	uint8_t a[32], b[32];
	EVP_MD_CTX *tmp = EVP_MD_CTX_new();
	unsigned int l;
	int same = 1;

	if (tmp == NULL)
		abort();
	/* Digest copies: the running hashes go on. */
	EVP_MD_CTX_copy_ex(tmp, k->ctx_hash);
	EVP_DigestFinal_ex(tmp, a, &l);
	EVP_MD_CTX_copy_ex(tmp, k->s.rx_hash);
	EVP_DigestFinal_ex(tmp, b, &l);
	same &= memcmp(a, b, 32) == 0 && k->s.rx_bytes == k->ctx_bytes;
	EVP_MD_CTX_copy_ex(tmp, k->stc_hash);
	EVP_DigestFinal_ex(tmp, a, &l);
	EVP_MD_CTX_copy_ex(tmp, k->c.rx_hash);
	EVP_DigestFinal_ex(tmp, b, &l);
	same &= memcmp(a, b, 32) == 0 && k->c.rx_bytes == k->stc_bytes;
	EVP_MD_CTX_free(tmp);
	return same && k->c.err == 0 && k->s.err == 0 && !k->c.disconnected &&
	    !k->s.disconnected;
}

static void
write_seed(const struct buf *b, const char *role)
{
	char path[4096];
	FILE *f;

	if (seed_dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s-%02d", seed_dir, role, seed_count++);
	if ((f = fopen(path, "wb")) == NULL)
		return;
	(void)fwrite(buf_ptr(b), 1, buf_len(b), f);
	fclose(f);
}

/*
 * Export one side and import it into a fresh engine that takes its
 * place: 0, or the error.  The old engine must refuse to go on.
 */
static int
conn_handover(struct conn *k, int server, struct buf **blobp)
{
	struct side *sd = server ? &k->s : &k->c;
	const struct transport_config *cfg = server ? &k->sc : &k->cc;
	struct transport *nt = NULL;
	struct buf *blob = buf_new(), *p;
	int r;

	if (blob == NULL)
		abort();
	if ((r = transport_export(sd->t, blob)) != 0)
		goto out;
	if (transport_packet_start(sd->t, TEST_MSG, &p) != FERR_CONN_CLOSED ||
	    transport_rekey(sd->t) != FERR_CONN_CLOSED ||
	    transport_export(sd->t, blob) != FERR_CONN_CLOSED) {
		r = FERR_INTERNAL;
		goto out;
	}
	write_seed(blob, server ? "server" : "client");
	if ((r = transport_import(cfg, buf_ptr(blob), buf_len(blob), &nt)) != 0)
		goto out;
	transport_free(sd->t);
	sd->t = nt;
 out:
	if (blobp != NULL && r == 0)
		*blobp = blob;
	else
		buf_free(blob);
	return r;
}

/*
 * Leave the server with input it has not processed: a packet whose
 * length it has read (and, without etm, whose first block it has
 * decrypted) and two whole packets behind it.
 */
static int
conn_buffer_input(struct conn *k)
{
	struct buf *out = transport_output(k->c.t);

	if (conn_send(k, 1, 700) != 0 || conn_send(k, 1, 333) != 0)
		return -1;
	/* All but the last 10 bytes, and let the server read them. */
	if (move(&k->c, &k->s, buf_len(out) - 10) == 0)
		return -1;
	side_poll(&k->s);
	if (conn_send(k, 1, 1200) != 0 || conn_send(k, 1, 5) != 0)
		return -1;
	if (move(&k->c, &k->s, buf_len(out)) == 0)
		return -1;
	/* The server has nothing to send: it may be exported. */
	return buf_len(transport_output(k->s.t)) == 0 ? 0 : -1;
}

/* One full run; 1 on success, with a diagnostic otherwise. */
static int
handover_run(const char *cipher, const char *mac, int server_rekeys)
{
	struct conn k;
	const uint8_t *sid;
	uint8_t sid0[64];
	size_t l0, l1, i;
	char *names[8];
	int ok_ = 0, r, step = 0;

	conn_new(&k, cipher, mac, NULL);
	pump(&k.c, &k.s);
	step++;
	if (conn_exchange(&k, 5) != 0 || !conn_exact(&k) || k.s.kex_done != 1)
		goto out;
	step++;
	if (conn_buffer_input(&k) != 0)
		goto out;
	for (i = 0; i < 8; i++) {
		const char *a = transport_algorithm(k.s.t, (enum transport_alg)i);

		names[i] = a != NULL ? strdup(a) : NULL;
	}
	sid = transport_session_id(k.s.t, &l0);
	if (sid == NULL || l0 > sizeof(sid0))
		goto out_names;
	memcpy(sid0, sid, l0);
	step++;
	if ((r = conn_handover(&k, 1, NULL)) != 0) {
		tap_diag("handover: %d", r);
		goto out_names;
	}
	step++;
	sid = transport_session_id(k.s.t, &l1);
	for (i = 0; i < 8; i++) {
		const char *a = transport_algorithm(k.s.t, (enum transport_alg)i);

		if ((a == NULL) != (names[i] == NULL) ||
		    (a != NULL && strcmp(a, names[i]) != 0))
			goto out_names;
	}
	if (sid == NULL || l0 != l1 || memcmp(sid0, sid, l1) != 0 ||
	    !transport_strict_kex(k.s.t) || transport_kex_count(k.s.t) != 1 ||
	    !transport_is_open(k.s.t) ||
	    strncmp(transport_peer_version(k.s.t), "SSH-2.0-Ferry_", 14) != 0)
		goto out_names;
	step++;
	/* The imported server reads what was buffered, then both ways. */
	pump(&k.c, &k.s);
	if (!conn_exact(&k) || conn_exchange(&k, 4) != 0 || !conn_exact(&k))
		goto out_names;
	step++;
	if (transport_rekey(server_rekeys ? k.s.t : k.c.t) != 0)
		goto out_names;
	/* Data crosses the key exchange in both directions. */
	if (conn_exchange(&k, 3) != 0 || conn_exchange(&k, 3) != 0 ||
	    !conn_exact(&k) || k.s.kex_done != 2 || k.c.kex_done != 2)
		goto out_names;
	step++;
	/* The client too can be handed over; then another rekey. */
	if ((r = conn_handover(&k, 0, NULL)) != 0 ||
	    transport_server_hostkey(k.c.t) == NULL ||
	    transport_server_sig_algs(k.c.t) == NULL)
		goto out_names;
	step++;
	if (conn_exchange(&k, 2) != 0 ||
	    transport_rekey(server_rekeys ? k.c.t : k.s.t) != 0 ||
	    conn_exchange(&k, 2) != 0 || !conn_exact(&k) || k.c.kex_done != 3)
		goto out_names;
	ok_ = 1;
 out_names:
	for (i = 0; i < 8; i++)
		free(names[i]);
 out:
	if (!ok_)
		tap_diag("%s/%s rekey by %s: failed at step %d: err %d/%d "
		    "(%s / %s) kex %d/%d", cipher, mac != NULL ? mac : "-",
		    server_rekeys ? "server" : "client", step, k.c.err, k.s.err,
		    transport_error(k.c.t), transport_error(k.s.t), k.c.kex_done,
		    k.s.kex_done);
	conn_free(&k);
	return ok_;
}

static void
test_matrix(void)
{
	size_t i, j, n = 0, bad = 0;
	int who;

	for (i = 0; i < N(ciphers); i++) {
		int aead = strstr(ciphers[i], "gcm") != NULL ||
		    strstr(ciphers[i], "poly1305") != NULL;

		for (j = 0; j < (aead ? 1 : N(macs)); j++)
			for (who = 0; who < 2; who++, n++)
				bad += !handover_run(ciphers[i],
				    aead ? NULL : macs[j], who);
	}
	is_int(bad, 0, "export/import mid-stream with buffered input, then "
	    "rekeys by either side, byte-exact (%zu runs: every cipher x MAC)",
	    n);
}

/* zlib@openssh.com starts on the imported engine after authentication. */
static void
test_delayed_compression(void)
{
	struct conn k;
	struct buf *blob = buf_new();
	uint8_t zeros[8192];
	size_t wire;
	int r;

	memset(zeros, 0, sizeof(zeros));
	conn_new(&k, "aes256-gcm@openssh.com", NULL, "zlib@openssh.com");
	pump(&k.c, &k.s);
	if (conn_exchange(&k, 3) != 0)
		abort();
	ok(strcmp(transport_algorithm(k.s.t, TRANSPORT_ALG_COMP_STOC),
	    "zlib@openssh.com") == 0 && conn_exact(&k),
	    "zlib@openssh.com negotiated, not yet running");
	r = conn_handover(&k, 1, NULL);
	is_int(r, 0, "export before authentication is allowed");
	transport_auth_done(k.s.t);
	transport_auth_done(k.c.t);
	/* 8 KiB of zeros must shrink on the wire now. */
	if (send_data(&k.s, zeros, sizeof(zeros)) != 0)
		abort();
	EVP_DigestUpdate(k.stc_hash, zeros, sizeof(zeros));
	k.stc_bytes += sizeof(zeros);
	wire = buf_len(transport_output(k.s.t));
	ok(wire < 200, "compression runs on the imported engine (%zu bytes "
	    "on the wire for 8192)", wire);
	if (conn_exchange(&k, 5) != 0)
		abort();
	ok(conn_exact(&k), "compressed traffic both ways is byte-exact");
	if (transport_rekey(k.s.t) != 0 || conn_exchange(&k, 5) != 0)
		abort();
	ok(conn_exact(&k) && k.c.kex_done == 2,
	    "and across a rekey that restarts the streams");
	r = transport_export(k.s.t, blob);
	is_int(r, FERR_NOT_SUPPORTED,
	    "no export once delayed compression may run");
	ok(buf_len(blob) == 0 && transport_is_open(k.s.t),
	    "a refused export leaves the blob empty and the engine open");
	conn_free(&k);

	conn_new(&k, NULL, NULL, "zlib");
	pump(&k.c, &k.s);
	r = transport_export(k.s.t, blob);
	is_int(r, FERR_NOT_SUPPORTED, "no export while plain zlib runs");
	if (conn_exchange(&k, 2) != 0)
		abort();
	ok(conn_exact(&k), "the engine goes on after the refusal");
	conn_free(&k);
	buf_free(blob);
}

static void
test_refusals(void)
{
	struct conn k;
	struct buf *blob = buf_new(), *p;
	int r;

	conn_new(&k, NULL, NULL, NULL);
	r = transport_export(k.s.t, blob);
	is_int(r, FERR_WOULD_BLOCK, "no export before the first key exchange");
	pump(&k.c, &k.s);
	if (transport_rekey(k.s.t) != 0)
		abort();
	r = transport_export(k.s.t, blob);
	is_int(r, FERR_WOULD_BLOCK, "no export during a key exchange");
	pump(&k.c, &k.s);
	if (conn_send(&k, 0, 10) != 0)
		abort();
	r = transport_export(k.s.t, blob);
	is_int(r, FERR_WOULD_BLOCK, "no export with output not yet sent");
	pump(&k.c, &k.s);
	if (transport_packet_start(k.s.t, TEST_MSG, &p) != 0)
		abort();
	r = transport_export(k.s.t, blob);
	is_int(r, FERR_WOULD_BLOCK, "no export with a packet being built");
	if (buf_put_u8(p, 1) != 0 || transport_send(k.s.t) != 0)
		abort();
	EVP_DigestUpdate(k.stc_hash, "\001", 1);
	k.stc_bytes++;
	pump(&k.c, &k.s);
	ok(buf_len(blob) == 0 && conn_exchange(&k, 2) == 0 && conn_exact(&k),
	    "refusals leave the blob empty and the engine going");
	if (transport_disconnect(k.s.t, TRANSPORT_DISC_BY_APPLICATION,
	    "bye") != 0)
		abort();
	r = transport_export(k.s.t, blob);
	is_int(r, FERR_CONN_CLOSED, "no export of a closed engine");
	conn_free(&k);
	buf_free(blob);
}

/* Sign H with the private key matching pub (the monitor's part). */
static int
sign_cb(const struct key *pub, const char *sigalg, const uint8_t *data,
    size_t len, struct buf *sig, void *ctx)
{
	size_t i;

	(*(int *)ctx)++;
	for (i = 0; i < nhostkeys; i++)
		if (key_equal_public(hostkeys[i], pub))
			return key_sign(hostkeys[i], sigalg, data, len, 0, sig);
	return FERR_KEY_NOT_FOUND;
}

/*
 * fsshd's case: the engine imported after authentication holds public
 * host keys only and signs later exchanges through the callback.
 */
static void
test_import_with_signer(void)
{
	struct key *pubs[PAIR_NHOSTKEYS];
	struct conn k;
	size_t i;
	int calls = 0, r;

	for (i = 0; i < nhostkeys; i++)
		if (key_demote(hostkeys[i], &pubs[i]) != 0)
			abort();
	conn_new(&k, "aes128-gcm@openssh.com", NULL, NULL);
	pump(&k.c, &k.s);
	if (conn_exchange(&k, 2) != 0)
		abort();
	k.sc.hostkeys = pubs;
	k.sc.hostkey_sign = sign_cb;
	k.sc.hostkey_sign_ctx = &calls;
	r = conn_handover(&k, 1, NULL);
	is_int(r, 0, "import with public host keys and a signer");
	if (transport_rekey(k.c.t) != 0 || conn_exchange(&k, 2) != 0)
		abort();
	ok(calls == 1 && k.c.kex_done == 2 && conn_exact(&k),
	    "a rekey after import signs through the callback");
	conn_free(&k);
	for (i = 0; i < nhostkeys; i++)
		key_free(pubs[i]);
}

/* Replace the first occurrence of from by to (same length) in b. */
static int
blob_subst(struct buf *b, const char *from, const char *to)
{
	const uint8_t *p = buf_ptr(b);
	size_t n = strlen(from), i;

	for (i = 0; i + n <= buf_len(b); i++)
		if (memcmp(p + i, from, n) == 0)
			return buf_poke(b, i, to, n) == 0 ? 0 : -1;
	return -1;
}


static void
must(int r)
{
	if (r != 0)
		abort();
}

static int
import_fails(const struct transport_config *cfg, const struct buf *b)
{
	struct transport *t = NULL;
	int r = transport_import(cfg, buf_ptr(b), buf_len(b), &t);

	transport_free(t);
	return r == FERR_FORMAT && t == NULL;
}

/*
 * A KEXINIT from the peer waiting in the input is fine to export: the
 * imported engine answers it.
 */
static void
test_kexinit_buffered(void)
{
	struct conn k;
	int r;

	conn_new(&k, "aes256-ctr", "umac-128@openssh.com", NULL);
	pump(&k.c, &k.s);
	if (conn_exchange(&k, 2) != 0 || transport_rekey(k.c.t) != 0 ||
	    move(&k.c, &k.s, 1 << 20) == 0)
		abort();
	r = conn_handover(&k, 1, NULL);
	is_int(r, 0, "export with the peer's KEXINIT not yet read");
	pump(&k.c, &k.s);
	if (conn_exchange(&k, 3) != 0)
		abort();
	ok(conn_exact(&k) && k.c.kex_done == 2 && k.s.kex_done == 2,
	    "the imported engine completes that key exchange");
	conn_free(&k);
}

/* Rekey byte and time counters carry over. */
static void
test_counters(void)
{
	struct conn k;
	time_t now = time(NULL);
	int i, r;

	conn_new(&k, NULL, NULL, NULL);
	pump(&k.c, &k.s);
	for (i = 0; i < 5; i++)
		if (conn_send(&k, 0, 8192) != 0)
			abort();
	pump(&k.c, &k.s);
	/* The new engine's limits: 64 KiB or a minute. */
	k.sc.rekey_bytes = 64 * 1024;
	k.sc.rekey_seconds = 60;
	r = conn_handover(&k, 1, NULL);
	is_int(r, 0, "export after 40 KiB sent");
	ok(transport_tick(k.s.t, now + 30) == 0, "tick at 30 seconds");
	pump(&k.c, &k.s);
	is_int(k.s.kex_done, 1, "no rekey before the interval: the time of "
	    "the last key exchange came along");
	for (i = 0; i < 5; i++)
		if (conn_send(&k, 0, 8192) != 0)
			abort();
	pump(&k.c, &k.s);
	ok(k.s.kex_done == 2 && k.c.kex_done == 2 && conn_exact(&k),
	    "40 KiB more passes the 64 KiB limit: the byte count came along");
	ok(transport_tick(k.s.t, now + 30 + 61) == 0, "tick past the interval");
	pump(&k.c, &k.s);
	ok(k.s.kex_done == 3 && conn_exact(&k), "rekey on time after import");
	conn_free(&k);
}

/* A copy of blob with the peer's identification line replaced. */
static struct buf *
blob_with_peer_version(const struct buf *blob, const char *v)
{
	struct buf *b = buf_new();
	uint32_t l1, l2;
	size_t off;

	/* magic (4 + 24), role, our line, then the peer's. */
	if (b == NULL || buf_peek_u32(blob, 29, &l1) != 0)
		abort();
	off = 33 + l1;
	if (buf_peek_u32(blob, off, &l2) != 0)
		abort();
	must(buf_put(b, buf_ptr(blob), off));
	must(buf_put_cstring(b, v));
	must(buf_put(b, buf_ptr(blob) + off + 4 + l2,
	    buf_len(blob) - off - 4 - l2));
	return b;
}

static void
test_peer_version(const struct transport_config *cfg, const struct buf *blob)
{
	struct transport *t = NULL;
	struct buf *b;
	char v[300];
	int r;

	/* A peer's line ended by LF alone may have 254 bytes. */
	memset(v, 'x', sizeof(v));
	memcpy(v, "SSH-2.0-", 8);
	v[254] = '\0';
	b = blob_with_peer_version(blob, v);
	r = transport_import(cfg, buf_ptr(b), buf_len(b), &t);
	ok(r == 0 && strcmp(transport_peer_version(t), v) == 0,
	    "a peer line of 254 bytes imports");
	transport_free(t);
	buf_free(b);
	v[254] = 'x';
	v[255] = '\0';
	b = blob_with_peer_version(blob, v);
	ok(import_fails(cfg, b), "one of 255 bytes is refused");
	buf_free(b);
	b = blob_with_peer_version(blob, "SSH-1.99-old\r-ok");
	r = transport_import(cfg, buf_ptr(b), buf_len(b), &t);
	ok(r == 0, "SSH-1.99 and a CR inside a peer line import");
	transport_free(t);
	buf_free(b);
	b = blob_with_peer_version(blob, "SSH-2.0-a\nb");
	ok(import_fails(cfg, b), "an LF inside a peer line is refused");
	buf_free(b);
	b = blob_with_peer_version(blob, "SSH-1.5-x");
	ok(import_fails(cfg, b), "an SSH-1 peer line is refused");
	buf_free(b);
}

static void
test_hostile(void)
{
	struct conn k;
	struct buf *blob = NULL, *b = buf_new();
	struct transport *t;
	size_t i, len, bad = 0;
	uint8_t v;

	if (b == NULL)
		abort();
	conn_new(&k, "aes128-ctr", "hmac-sha2-256", NULL);
	pump(&k.c, &k.s);
	if (conn_exchange(&k, 2) != 0 || conn_handover(&k, 1, &blob) != 0)
		abort();
	len = buf_len(blob);
	for (i = 0; i < len; i++) {
		struct buf *tr = buf_from(buf_ptr(blob), i);

		bad += !import_fails(&k.sc, tr);
		buf_free(tr);
	}
	is_int(bad, 0, "every truncation of a blob is FERR_FORMAT (%zu)", len);
#define RESET()	(buf_reset(b), must(buf_putb(b, blob)))
	RESET();
	ok(transport_import(&k.sc, buf_ptr(b), buf_len(b), &t) == 0,
	    "the untouched blob imports");
	transport_free(t);
	RESET();
	must(buf_put_u8(b, 0));
	ok(import_fails(&k.sc, b), "a trailing byte is refused");
	RESET();
	ok(import_fails(&k.cc, b), "a server's blob into a client is refused");
	RESET();
	must(buf_poke_u8(b, 28, 2));
	ok(import_fails(&k.sc, b), "a flag other than 0 or 1 is refused");
	RESET();
	ok(blob_subst(b, "ferry-transport-state-v1",
	    "ferry-transport-state-v2") == 0 && import_fails(&k.sc, b),
	    "another format version is refused");
	RESET();
	ok(blob_subst(b, "aes128-ctr", "aes256-ctr") == 0 &&
	    import_fails(&k.sc, b), "a key too short for its cipher is refused");
	RESET();
	ok(blob_subst(b, "aes128-ctr", "aes128-ctX") == 0 &&
	    import_fails(&k.sc, b), "an unknown cipher is refused");
	RESET();
	ok(blob_subst(b, "aes128-ctr", "aes128-gcm") == 0 &&
	    import_fails(&k.sc, b), "a cipher name cut short is refused");
	RESET();
	ok(blob_subst(b, "hmac-sha2-256", "hmac-sha2-512") == 0 &&
	    import_fails(&k.sc, b), "a MAC key of the wrong length is refused");
	RESET();
	ok(blob_subst(b, "curve25519-sha256", "curve25519-sha999") == 0 &&
	    import_fails(&k.sc, b), "an unknown kex is refused");
	RESET();
	ok(blob_subst(b, "SSH-2.0-", "SSH-1.0-") == 0 && import_fails(&k.sc, b),
	    "an identification line that is not SSH-2.0 is refused");
	/* The tail: flag, length of a partial packet, no input. */
	RESET();
	len = buf_len(b);
	ok(buf_peek_u8(b, len - 9, &v) == 0 && v == 0, "blob tail as expected");
	must(buf_poke_u8(b, len - 9, 1));
	ok(import_fails(&k.sc, b), "a partial packet without its bytes is refused");
	RESET();
	must(buf_poke_u32(b, len - 8, 64));
	ok(import_fails(&k.sc, b), "a packet length without its flag is refused");
	RESET();
	must(buf_poke_u8(b, len - 9, 1));
	must(buf_poke_u32(b, len - 8, 0xffffff));
	must(buf_poke_u32(b, len - 4, 16));
	must(buf_put(b, "0123456789abcdef", 16));
	ok(import_fails(&k.sc, b), "a partial packet over the size cap is refused");
	/* Every single-byte change either imports or fails cleanly. */
	for (i = 0, bad = 0; i < buf_len(blob); i++) {
		RESET();
		if (buf_peek_u8(b, i, &v) != 0 || buf_poke_u8(b, i, v ^ 0x81) != 0)
			abort();
		t = NULL;
		if (transport_import(&k.sc, buf_ptr(b), buf_len(b), &t) != 0 &&
		    t != NULL)
			bad++;
		transport_free(t);
	}
	is_int(bad, 0, "every byte flipped: imported or refused, nothing else");
	test_peer_version(&k.sc, blob);
#undef RESET
	buf_free(blob);
	buf_free(b);
	conn_free(&k);
}

int
main(void)
{
	seed_dir = getenv("FERRY_WRITE_STATE_SEEDS");
	pair_hostkeys_init();
	test_matrix();
	test_delayed_compression();
	test_refusals();
	test_kexinit_buffered();
	test_counters();
	test_import_with_signer();
	test_hostile();
	pair_hostkeys_free();
	return tap_done();
}
