/*
 * The transport engine in memory, no sockets: a client engine against a
 * server engine for the algorithm matrix, a 64 MiB byte-exact stream with
 * rekeys started by both sides, and hostile input that must end in a
 * disconnect with a reason.  FERRY_SLOW=1 runs the full cross product of
 * kex x host key x cipher x MAC.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key-cert.h"
#include "ferry/key.h"
#include "ferry/transport.h"
#include "kexalg.h"
#include "packet.h"
#include "tap.h"
#include "test-transport-pair.h"
#include "transport-int.h"

/* One handshake and a message each way; 1 on success. */
static int
handshake(const char *kex, const char *hk, const char *cipher, const char *mac)
{
	struct side c, s;
	int ok_ = 0;

	if (new_pair(&c, &s, kex, hk, cipher, mac, 0) != 0)
		goto out;
	if (send_data(&c, (const uint8_t *)"ping", 4) != 0)
		goto out;
	pump(&c, &s);
	if (send_data(&s, (const uint8_t *)"pong!", 5) != 0)
		goto out;
	pump(&c, &s);
	ok_ = c.kex_done == 1 && s.kex_done == 1 && c.err == 0 && s.err == 0 &&
	    s.packets == 1 && s.rx_bytes == 4 && c.packets == 1 &&
	    c.rx_bytes == 5 && transport_is_open(c.t) &&
	    strcmp(transport_algorithm(c.t, TRANSPORT_ALG_KEX),
	    strchr(kex, ',') == NULL ? kex : "") == 0 &&
	    transport_strict_kex(c.t) && transport_strict_kex(s.t);
	if (!ok_)
		tap_diag("%s %s %s %s: kex %d/%d err %d/%d (%s / %s)", kex, hk,
		    cipher, mac ? mac : "-", c.kex_done, s.kex_done, c.err, s.err,
		    transport_error(c.t), transport_error(s.t));
 out:
	side_free(&c);
	side_free(&s);
	return ok_;
}

static const char *kexes[] = {
	"curve25519-sha256", "curve25519-sha256@libssh.org",
	"ecdh-sha2-nistp256", "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
	"diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
	"diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256",
	"diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1",
};
static const char *hks[] = {
	"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa",
};
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
#define N(a)	(sizeof(a) / sizeof((a)[0]))

static void
test_matrix(void)
{
	size_t i, j, k, l, bad = 0, n = 0;
	int slow = getenv("FERRY_SLOW") != NULL;

	for (i = 0; i < N(kexes); i++)
		for (j = 0; j < N(hks); j++, n++)
			bad += !handshake(kexes[i], hks[j], "aes128-ctr",
			    "hmac-sha2-256-etm@openssh.com");
	is_int(bad, 0, "every kex x host key algorithm (%zu pairs)", n);
	bad = n = 0;
	for (i = 0; i < N(ciphers); i++)
		for (j = 0; j < N(macs); j++, n++)
			bad += !handshake("curve25519-sha256", "ssh-ed25519",
			    ciphers[i], macs[j]);
	is_int(bad, 0, "every cipher x MAC (%zu pairs)", n);
	if (!slow) {
		tap_skip("full kex x host key x cipher x MAC product: set FERRY_SLOW=1");
		return;
	}
	bad = n = 0;
	for (i = 0; i < N(kexes); i++)
		for (j = 0; j < N(hks); j++)
			for (k = 0; k < N(ciphers); k++)
				for (l = 0; l < N(macs); l++, n++)
					bad += !handshake(kexes[i], hks[j],
					    ciphers[k], macs[l]);
	is_int(bad, 0, "full product (%zu combinations)", n);
}

/* 64 MiB each way with small rekey limits on both sides. */
static void
test_stream(const char *cipher, const char *mac)
{
	struct side c, s;
	uint8_t chunk[32768], want[32], got[32];
	EVP_MD_CTX *tx = EVP_MD_CTX_new();
	size_t total = 64u << 20, sent = 0, i;
	unsigned int wl, gl;
	int fails = 0;

	if (tx == NULL || EVP_DigestInit_ex(tx, EVP_sha256(), NULL) != 1 ||
	    new_pair(&c, &s, "curve25519-sha256", "ssh-ed25519", cipher, mac,
	    3u << 20) != 0)
		abort();
	pump(&c, &s);
	for (i = 0; sent < total; i++) {
		size_t n = sizeof(chunk) - (i % 7) * 1000;

		memset(chunk, (int)(i & 0xff), n);
		chunk[0] = (uint8_t)(i >> 8);
		EVP_DigestUpdate(tx, chunk, n);
		/* Both directions carry data; the server echoes a tick. */
		if (send_data(&c, chunk, n) != 0 || send_data(&s, chunk, 16) != 0)
			fails++;
		sent += n;
		if (i % 500 == 250 && transport_rekey(s.t) != 0)
			fails++;
		if (i % 8 == 0)
			pump(&c, &s);
	}
	pump(&c, &s);
	EVP_DigestFinal_ex(tx, want, &wl);
	EVP_DigestFinal_ex(s.rx_hash, got, &gl);
	ok(fails == 0 && c.err == 0 && s.err == 0, "%s/%s: 64 MiB sent without error",
	    cipher, mac != NULL ? mac : "-");
	ok(s.rx_bytes == sent && memcmp(want, got, 32) == 0,
	    "%s: 64 MiB arrived byte-exact (%llu bytes)", cipher,
	    (unsigned long long)s.rx_bytes);
	ok(c.kex_done > 10 && s.kex_done == c.kex_done,
	    "%s: rekeyed %d times, started by both sides", cipher, c.kex_done);
	EVP_MD_CTX_free(tx);
	side_free(&c);
	side_free(&s);
}

/* The server's reason for the last rejection seen by server_rejects. */
static char last_reason[256];

/* Feed raw bytes to a fresh server; it must fail with a reason. */
static int
server_rejects(const void *bytes, size_t len, const char *why)
{
	struct side c, s;
	int rejected;

	if (new_pair(&c, &s, NULL, NULL, NULL, NULL, 0) != 0)
		abort();
	if (transport_input(s.t, bytes, len) != 0)
		abort();
	side_poll(&s);
	rejected = s.err != 0 && strcmp(transport_error(s.t), "no error") != 0;
	snprintf(last_reason, sizeof(last_reason), "%s", transport_error(s.t));
	if (!rejected)
		tap_diag("%s: err %d", why, s.err);
	side_free(&c);
	side_free(&s);
	return rejected;
}

/* A plaintext packet (before NEWKEYS) with explicit fields. */
static size_t
raw_packet(uint8_t *dst, uint32_t plen, uint8_t padlen, const void *payload,
    size_t paylen, size_t total)
{
	memset(dst, 0, total);
	dst[0] = (uint8_t)(plen >> 24);
	dst[1] = (uint8_t)(plen >> 16);
	dst[2] = (uint8_t)(plen >> 8);
	dst[3] = (uint8_t)plen;
	dst[4] = padlen;
	if (paylen != 0)
		memcpy(dst + 5, payload, paylen);
	return total;
}

static void
test_hostile_framing(void)
{
	static const char v[] = "SSH-2.0-Test\r\n";
	uint8_t b[2048], line[400];
	size_t n;

	memset(line, 'a', sizeof(line));
	memcpy(line, "SSH-2.0-", 8);
	line[sizeof(line) - 2] = '\r';
	line[sizeof(line) - 1] = '\n';
	ok(server_rejects(line, sizeof(line), "long"),
	    "identification line over 255 bytes");
	ok(server_rejects(line, 300 - 2, "no crlf"), "no CR LF within 255 bytes");
	ok(server_rejects("SSH-1.5-Old\r\n", 13, "ssh1"), "SSH-1.5 refused");
	ok(server_rejects("hello\r\nSSH-2.0-x\r\n", 18, "banner"),
	    "server accepts no lines before the identification");
	ok(server_rejects("SSH-2.0-a\0b\r\n", 13, "nul"), "NUL in identification");

#define WITH_VERSION(total) (memcpy(b, v, sizeof(v) - 1), sizeof(v) - 1 + (total))
	n = WITH_VERSION(raw_packet(b + 14, 0, 4, NULL, 0, 16));
	ok(server_rejects(b, n, "plen 0"), "packet_length 0");
	n = WITH_VERSION(raw_packet(b + 14, 8, 4, "\x14", 1, 16));
	ok(server_rejects(b, n, "plen < 16"), "packet shorter than 16 bytes");
	n = WITH_VERSION(raw_packet(b + 14, 13, 4, "\x14", 1, 24));
	ok(server_rejects(b, n, "unaligned"), "packet_length not block-aligned");
	n = WITH_VERSION(raw_packet(b + 14, 256 * 1024 + 4, 4, "\x14", 1, 16));
	ok(server_rejects(b, n, "huge"), "packet_length over 256 KiB");
	n = WITH_VERSION(raw_packet(b + 14, 0xffffffffU, 4, "\x14", 1, 16));
	ok(server_rejects(b, n, "ffffffff"), "packet_length 0xFFFFFFFF");
	n = WITH_VERSION(raw_packet(b + 14, 12, 3, "\x14", 1, 16));
	ok(server_rejects(b, n, "pad 3"), "padding_length below 4");
	n = WITH_VERSION(raw_packet(b + 14, 12, 12, "\x14", 1, 16));
	ok(server_rejects(b, n, "pad >= plen"), "padding_length >= packet_length");
	n = WITH_VERSION(raw_packet(b + 14, 12, 11, NULL, 0, 16));
	ok(server_rejects(b, n, "empty"), "empty payload");
	/* A service request before any key exchange. */
	n = WITH_VERSION(raw_packet(b + 14, 12, 10, "\x05", 1, 16));
	ok(server_rejects(b, n, "early"), "upper-layer message before kex");
}

/* Put a KEXINIT with the given lists, plaintext, after the version. */
static size_t
raw_kexinit(uint8_t *dst, size_t cap, const char *kex, size_t kexlen,
    int ignore_first)
{
	struct buf *p = buf_new(), *pk = buf_new();
	size_t i, padlen, len;

	if (buf_putf(pk, "SSH-2.0-Test\r\n") != 0)
		abort();
	if (ignore_first) {
		/* An IGNORE before KEXINIT: strict kex forbids it. */
		if (buf_put_u32(pk, 12) != 0 || buf_put_u8(pk, 10) != 0 ||
		    buf_put_u8(pk, 2) != 0 || buf_put(pk, "\0\0\0\0\0\0\0\0\0\0", 10) != 0)
			abort();
	}
	if (buf_put_u8(p, 20) != 0 || buf_put(p, "0123456789abcdef", 16) != 0 ||
	    buf_put_string(p, kex, kexlen) != 0 ||
	    buf_put_cstring(p, "ssh-ed25519") != 0)
		abort();
	for (i = 0; i < 2; i++)
		if (buf_put_cstring(p, "aes128-ctr") != 0)
			abort();
	for (i = 0; i < 2; i++)
		if (buf_put_cstring(p, "hmac-sha2-256-etm@openssh.com") != 0)
			abort();
	for (i = 0; i < 2; i++)
		if (buf_put_cstring(p, "none") != 0)
			abort();
	if (buf_put_cstring(p, "") != 0 || buf_put_cstring(p, "") != 0 ||
	    buf_put_u8(p, 0) != 0 || buf_put_u32(p, 0) != 0)
		abort();
	padlen = 8 - ((buf_len(p) + 5) % 8);
	if (padlen < 4)
		padlen += 8;
	if (buf_put_u32(pk, (uint32_t)(buf_len(p) + padlen + 1)) != 0 ||
	    buf_put_u8(pk, (uint8_t)padlen) != 0 || buf_putb(pk, p) != 0 ||
	    buf_reserve(pk, padlen, NULL) != 0)
		abort();
	len = buf_len(pk);
	if (len > cap)
		abort();
	memcpy(dst, buf_ptr(pk), len);
	buf_free(p);
	buf_free(pk);
	return len;
}

/* Append payload as a plaintext packet (before any NEWKEYS). */
static void
raw_put_packet(struct buf *out, const struct buf *payload)
{
	size_t padlen = 8 - ((buf_len(payload) + 5) % 8);

	if (padlen < 4)
		padlen += 8;
	if (buf_put_u32(out, (uint32_t)(buf_len(payload) + padlen + 1)) != 0 ||
	    buf_put_u8(out, (uint8_t)padlen) != 0 || buf_putb(out, payload) != 0 ||
	    buf_reserve(out, padlen, NULL) != 0)
		abort();
}

/* Version, then a KEXINIT offering kex, with the guess flag. */
static struct buf *
raw_client_start(const char *kex, int follows)
{
	struct buf *out = buf_new(), *p = buf_new();
	size_t i;

	if (buf_putf(out, "SSH-2.0-Test\r\n") != 0 ||
	    buf_put_u8(p, 20) != 0 || buf_put(p, "0123456789abcdef", 16) != 0 ||
	    buf_put_cstring(p, kex) != 0 || buf_put_cstring(p, "ssh-ed25519") != 0)
		abort();
	for (i = 0; i < 6; i++)
		if (buf_put_cstring(p, i < 2 ? "aes128-ctr" : i < 4 ?
		    "hmac-sha2-256-etm@openssh.com" : "none") != 0)
			abort();
	if (buf_put_cstring(p, "") != 0 || buf_put_cstring(p, "") != 0 ||
	    buf_put_bool(p, follows) != 0 || buf_put_u32(p, 0) != 0)
		abort();
	raw_put_packet(out, p);
	buf_free(p);
	return out;
}

/* Append an ECDH_INIT carrying len bytes of q. */
static void
raw_ecdh_init(struct buf *out, const uint8_t *q, size_t len)
{
	struct buf *p = buf_new();

	if (buf_put_u8(p, 30) != 0 || buf_put_string(p, q, len) != 0)
		abort();
	raw_put_packet(out, p);
	buf_free(p);
}

/* Whether the plaintext stream out (after its version line) holds msg. */
static int
raw_has_msg(const struct buf *out, uint8_t msg)
{
	const uint8_t *p = buf_ptr(out), *nl;
	size_t len = buf_len(out), off;
	uint32_t plen;

	if ((nl = memchr(p, '\n', len)) == NULL)
		return 0;
	for (off = (size_t)(nl - p) + 1; off + 6 <= len; off += 4 + plen) {
		plen = (uint32_t)p[off] << 24 | (uint32_t)p[off + 1] << 16 |
		    (uint32_t)p[off + 2] << 8 | p[off + 3];
		if (p[off + 5] == msg)
			return 1;
	}
	return 0;
}

/* Feed a raw client stream; 1 if the server answered with ECDH_REPLY. */
static int
raw_server_replies(struct buf *in, int *errp)
{
	struct side c, s;
	int replied;

	if (new_pair(&c, &s, NULL, NULL, NULL, NULL, 0) != 0)
		abort();
	if (transport_input(s.t, buf_ptr(in), buf_len(in)) != 0)
		abort();
	side_poll(&s);
	*errp = s.err;
	replied = s.err == 0 && raw_has_msg(transport_output(s.t), 31);
	side_free(&c);
	side_free(&s);
	return replied;
}

static void
test_hostile_kex_values(void)
{
	/* A low-order point: X25519 gives all zeros for it. */
	static const uint8_t zero[32];
	uint8_t good[32];
	struct kex_curve25519 *kp;
	struct buf *in, *pub = buf_new();
	int err;

	if (kex_curve25519_keygen(&kp) != 0 || kex_curve25519_public(kp, pub) != 0)
		abort();
	memcpy(good, buf_ptr(pub), 32);
	kex_curve25519_free(kp);
	buf_free(pub);

	in = raw_client_start("curve25519-sha256", 0);
	raw_ecdh_init(in, zero, 32);
	ok(!raw_server_replies(in, &err) && err != 0,
	    "X25519 low-order point refused with a disconnect");
	buf_free(in);
	in = raw_client_start("curve25519-sha256", 0);
	raw_ecdh_init(in, good, 31);
	ok(!raw_server_replies(in, &err) && err != 0,
	    "X25519 public value of 31 bytes refused");
	buf_free(in);
	in = raw_client_start("curve25519-sha256", 0);
	raw_ecdh_init(in, good, 32);
	ok(raw_server_replies(in, &err), "a valid ECDH_INIT is answered");
	buf_free(in);

	/* A wrong guess: the first packet after KEXINIT must be ignored. */
	in = raw_client_start("sntrup761x25519-sha512@openssh.com,curve25519-sha256", 1);
	raw_ecdh_init(in, zero, 7);	/* the void guess: garbage is fine */
	raw_ecdh_init(in, good, 32);
	ok(raw_server_replies(in, &err),
	    "first_kex_packet_follows with a wrong guess: guess discarded");
	buf_free(in);
	/*
	 * Both sides must prefer the same method: the negotiated one being
	 * the client's first is not enough (the server prefers another).
	 */
	in = raw_client_start("curve25519-sha256@libssh.org,curve25519-sha256",
	    1);
	raw_ecdh_init(in, zero, 7);
	raw_ecdh_init(in, good, 32);
	ok(raw_server_replies(in, &err),
	    "a guess is wrong when the first names differ, though negotiated");
	buf_free(in);
	/* A right guess is not discarded. */
	in = raw_client_start("curve25519-sha256", 1);
	raw_ecdh_init(in, good, 32);
	ok(raw_server_replies(in, &err), "a right guess is used");
	buf_free(in);
}

/* A pair whose client and server prefer kex lists ckex and skex. */
static void
guess_pair(struct side *c, struct side *s, const char *ckex,
    const char *skex, const char *chk)
{
	struct transport_config cc, sc;

	side_init(c);
	side_init(s);
	memset(&cc, 0, sizeof(cc));
	memset(&sc, 0, sizeof(sc));
	cc.kex_algorithms = ckex;
	cc.hostkey_algorithms = chk;
	sc.kex_algorithms = skex;
	sc.server = 1;
	sc.hostkeys = hostkeys;
	sc.nhostkeys = nhostkeys;
	if (transport_new(&cc, &c->t) != 0 || transport_new(&sc, &s->t) != 0)
		abort();
}

/*
 * One client flight in, then the server's answer: 1 when the server
 * replied to the key exchange at once (the client's guess stood).
 */
static int
guess_first_flight(struct side *c, struct side *s)
{
	move(c, s, (size_t)-1);
	side_poll(s);
	return s->err == 0 && raw_has_msg(transport_output(s->t), 31);
}

/*
 * A client guessing ecdh-sha2-nistp256 (its first, and negotiated) meets
 * a server preferring curve25519-sha256 that identifies as version:
 * 1 when the client sends a second ECDH_INIT once the server's KEXINIT
 * is in (RFC 4253 7.1: the guess was wrong).
 */
static int
guess_client_resends(const char *version)
{
	struct transport_config cc, sc;
	struct side c, s;
	struct buf *o;
	int resent;

	side_init(&c);
	side_init(&s);
	memset(&cc, 0, sizeof(cc));
	memset(&sc, 0, sizeof(sc));
	cc.kex_algorithms = "ecdh-sha2-nistp256,curve25519-sha256";
	cc.hostkey_algorithms = "ssh-ed25519";
	sc.kex_algorithms = "curve25519-sha256,ecdh-sha2-nistp256";
	sc.server = 1;
	sc.version = version;
	sc.hostkeys = hostkeys;
	sc.nhostkeys = nhostkeys;
	if (transport_new(&cc, &c.t) != 0 || transport_new(&sc, &s.t) != 0)
		abort();
	if (!raw_has_msg(transport_output(c.t), 30))
		abort();
	/* One flight each way: the client's output is then what follows. */
	move(&c, &s, (size_t)-1);
	side_poll(&s);
	move(&s, &c, (size_t)-1);
	side_poll(&c);
	/* raw_has_msg skips a version line: put one in front. */
	if ((o = buf_new()) == NULL || buf_putf(o, "x\n") != 0 ||
	    buf_putb(o, transport_output(c.t)) != 0)
		abort();
	resent = c.err == 0 && raw_has_msg(o, 30);
	buf_free(o);
	side_free(&c);
	side_free(&s);
	return resent;
}

/* RFC 4253 7.1: the client's first_kex_packet_follows guess. */
static void
test_kex_guess(void)
{
	struct side c, s;
	uint8_t follows;
	const uint8_t *p;

	ok(kex_guess_right("a,b", "x,y", "a,c", "x"),
	    "guess right: same firsts");
	ok(!kex_guess_right("a", "x", "b,a", "x"),
	    "guess wrong: first kex names differ though a is common");
	ok(!kex_guess_right("a", "x", "a", "y,x"),
	    "guess wrong: first host key names differ");
	ok(!kex_guess_right("ab", "x", "a", "x") &&
	    !kex_guess_right("", "", "", ""),
	    "guess: prefixes and empty lists");

	/* Right: both prefer curve25519-sha256 and ssh-ed25519. */
	guess_pair(&c, &s, NULL, NULL, "ssh-ed25519");
	ok(raw_has_msg(transport_output(c.t), 30),
	    "the client's first flight holds KEXINIT and its guess");
	/* The flag is the KEXINIT's last byte before the reserved word. */
	p = buf_ptr(transport_output(c.t));
	p = (const uint8_t *)memchr(p, '\n',
	    buf_len(transport_output(c.t))) + 1;
	follows = p[4 + (((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]) - p[4]) - 5];
	ok(follows == 1, "first_kex_packet_follows is set");
	ok(guess_first_flight(&c, &s),
	    "a right guess: the server replies to the first flight");
	pump(&c, &s);
	ok(c.kex_done && s.kex_done && c.err == 0 && s.err == 0,
	    "a right guess completes the exchange");
	side_free(&c);
	side_free(&s);

	/* Wrong: the server prefers another method it shares. */
	guess_pair(&c, &s, NULL, "diffie-hellman-group14-sha256,"
	    "curve25519-sha256", "ssh-ed25519");
	ok(!guess_first_flight(&c, &s) && s.err == 0,
	    "a wrong guess (server prefers another kex) is ignored");
	pump(&c, &s);
	ok(c.kex_done && s.kex_done && c.err == 0 && s.err == 0 &&
	    strcmp(transport_algorithm(c.t, TRANSPORT_ALG_KEX),
	    "curve25519-sha256") == 0,
	    "after a wrong guess the client sends the real packet");
	side_free(&c);
	side_free(&s);

	/* Wrong by the host key: the server's first is ssh-ed25519. */
	guess_pair(&c, &s, NULL, NULL, "ecdsa-sha2-nistp256,ssh-ed25519");
	ok(!guess_first_flight(&c, &s) && s.err == 0,
	    "a wrong host key guess is ignored");
	pump(&c, &s);
	ok(c.kex_done && s.kex_done && c.err == 0 && s.err == 0,
	    "and the exchange completes");
	side_free(&c);
	side_free(&s);

	/* Wrong, and the negotiated method differs from the guess. */
	guess_pair(&c, &s, "ecdh-sha2-nistp256,curve25519-sha256",
	    "curve25519-sha256", "ssh-ed25519");
	ok(!guess_first_flight(&c, &s), "an ECDH guess the server lacks");
	pump(&c, &s);
	ok(c.kex_done && s.kex_done && c.err == 0 && s.err == 0,
	    "is replaced by the negotiated method's packet");
	side_free(&c);
	side_free(&s);

	/*
	 * A server that calls itself AsyncSSH keeps a guess whose name is
	 * negotiated even when it prefers another method: the client must
	 * not follow it with the real packet.  Any other server gets it.
	 */
	ok(guess_client_resends(NULL), "an RFC 4253 server that prefers "
	    "another kex gets the real packet after the guess");
	ok(!guess_client_resends("AsyncSSH_2.10.1"), "AsyncSSH, whose rule "
	    "keeps a guess whose name is negotiated, gets no second packet");
	ok(!guess_client_resends("paramiko_3.0.0"),
	    "nor paramiko, which ignores the flag");

	/* DH and GEX first: nothing is guessed. */
	guess_pair(&c, &s, "diffie-hellman-group14-sha256", NULL,
	    "ssh-ed25519");
	ok(!raw_has_msg(transport_output(c.t), 30),
	    "fixed-group DH first: no guessed packet");
	pump(&c, &s);
	ok(c.kex_done && s.kex_done, "and the exchange completes");
	side_free(&c);
	side_free(&s);
}

static void
test_hostile_kexinit(void)
{
	static uint8_t b[200000];
	char *big;
	size_t n, i;

	n = raw_kexinit(b, sizeof(b), "curve25519-sha256,kex-strict-c-v00@openssh.com",
	    46, 1);
	ok(server_rejects(b, n, "ignore strict"), "IGNORE before KEXINIT in strict kex");
	ok(strstr(last_reason, "strict KEX") != NULL, "refused as a strict kex violation (%s)",
	    last_reason);
	n = raw_kexinit(b, sizeof(b), "", 0, 0);
	ok(server_rejects(b, n, "empty"), "KEXINIT with an empty kex list");
	n = raw_kexinit(b, sizeof(b), "made-up-kex", 11, 0);
	ok(server_rejects(b, n, "no common"), "KEXINIT with no common algorithm");
	big = malloc(65536);
	for (i = 0; i < 65535; i++)
		big[i] = (i % 10 == 9) ? ',' : 'a';
	big[65535] = 'b';
	n = raw_kexinit(b, sizeof(b), big, 65536, 0);
	ok(server_rejects(b, n, "64k"), "KEXINIT with a 64 KiB name-list");
	free(big);
}

/*
 * After a completed handshake, flip one bit of the client's next packet
 * at offset off; the server must fail with a MAC error.
 */
static int
tamper(const char *cipher, const char *mac, size_t off)
{
	struct side c, s;
	struct buf *out;
	uint8_t *p;
	int result;

	if (new_pair(&c, &s, "curve25519-sha256", "ssh-ed25519", cipher, mac, 0) != 0)
		abort();
	pump(&c, &s);
	if (send_data(&c, (const uint8_t *)"0123456789abcdefghijklmnopqrstuvwxyz", 36) != 0)
		abort();
	out = transport_output(c.t);
	if (off >= buf_len(out) || (p = buf_mutable_ptr(out)) == NULL)
		abort();
	p[off] ^= 0x10;
	pump(&c, &s);
	/*
	 * Nothing tampered is ever delivered.  A changed length may leave the
	 * server waiting for bytes that never come (the length cannot be
	 * authenticated before the packet is complete); anything else fails
	 * the MAC, and the client is told so with a DISCONNECT.
	 */
	result = s.packets == 0 && (off < 4 || (s.err != 0 && c.disconnected &&
	    c.reason == TRANSPORT_DISC_MAC_ERROR));
	if (!result)
		tap_diag("packets %d err %d disc %d reason %u", s.packets, s.err,
		    c.disconnected, c.reason);
	side_free(&c);
	side_free(&s);
	return result;
}

static void
test_tamper(void)
{
	static const size_t offs[] = { 0, 3, 4, 5, 20, 40, 55 };
	size_t i, j, k, bad = 0, n = 0;

	for (i = 0; i < N(ciphers); i++)
		for (j = 0; j < N(macs); j++) {
			if (j > 0 && strstr(ciphers[i], "gcm") != NULL)
				break;
			if (j > 0 && strstr(ciphers[i], "chacha") != NULL)
				break;
			for (k = 0; k < N(offs); k++, n++)
				if (!tamper(ciphers[i], macs[j], offs[k])) {
					tap_diag("tamper %s %s at %zu not caught",
					    ciphers[i], macs[j], offs[k]);
					bad++;
				}
		}
	is_int(bad, 0, "a flipped bit after NEWKEYS ends the connection (%zu cases)", n);
}

/*
 * A negotiation that finds nothing in common says what kind and what
 * the peer offered (OpenSSH's "no matching cipher found. Their offer:"),
 * on both sides, and ends the connection with KEX_FAILED.
 */
static void
test_nomatch(void)
{
	static const struct {
		const char *kex, *cipher, *mac, *what;
	} cases[] = {
		{ "ecdh-sha2-nistp256", NULL, NULL, "key exchange method" },
		{ NULL, "aes128-ctr", NULL, "cipher" },
		{ NULL, "aes256-ctr", "hmac-sha2-512", "MAC" },
	};
	struct transport_config cc, sc;
	struct side c, s;
	char want_c[256], want_s[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		side_init(&c);
		side_init(&s);
		memset(&cc, 0, sizeof(cc));
		cc.kex_algorithms = cases[i].kex;
		cc.ciphers = cases[i].cipher;
		cc.macs = cases[i].mac;
		memset(&sc, 0, sizeof(sc));
		sc.server = 1;
		sc.hostkeys = hostkeys;
		sc.nhostkeys = nhostkeys;
		sc.kex_algorithms = cases[i].kex != NULL ? "curve25519-sha256" :
		    NULL;
		sc.ciphers = cases[i].cipher != NULL ? "aes256-ctr" : NULL;
		sc.macs = cases[i].mac != NULL ? "hmac-sha2-256" : NULL;
		if (transport_new(&cc, &c.t) != 0 ||
		    transport_new(&sc, &s.t) != 0)
			abort();
		pump(&c, &s);
		snprintf(want_c, sizeof(want_c), "no matching %s found. "
		    "Their offer: %s", cases[i].what, cases[i].kex != NULL ?
		    "curve25519-sha256," : cases[i].mac != NULL ?
		    "hmac-sha2-256" : "aes256-ctr");
		snprintf(want_s, sizeof(want_s), "no matching %s found. "
		    "Their offer: %s", cases[i].what, cases[i].kex != NULL ?
		    "ecdh-sha2-nistp256," : cases[i].mac != NULL ?
		    "hmac-sha2-512" : "aes128-ctr");
		ok(c.err != 0 && s.err != 0 && c.kex_done == 0 &&
		    strncmp(transport_error(c.t), want_c, strlen(want_c)) == 0 &&
		    strncmp(transport_error(s.t), want_s, strlen(want_s)) == 0,
		    "no common %s: both sides say so with the peer's offer "
		    "(client: %s; server: %s)", cases[i].what,
		    transport_error(c.t), transport_error(s.t));
		side_free(&c);
		side_free(&s);
	}
}

static void
test_misc(void)
{
	struct side c, s;
	struct buf *p;
	size_t i, len;
	int r;

	if (new_pair(&c, &s, NULL, NULL, NULL, NULL, 0) != 0)
		abort();
	pump(&c, &s);
	ok(c.kex_done == 1 && strcmp(transport_algorithm(c.t, TRANSPORT_ALG_KEX),
	    "curve25519-sha256") == 0, "defaults negotiate curve25519-sha256");
	ok(transport_server_sig_algs(c.t) != NULL &&
	    strstr(transport_server_sig_algs(c.t), "rsa-sha2-512") != NULL,
	    "client learned server-sig-algs from EXT_INFO");
	ok(transport_session_id(c.t, &len) != NULL && len == 32,
	    "session id is the first H");
	ok(transport_server_hostkey(c.t) != NULL, "client keeps the host key");
	/* A flood of IGNORE and PING is served and memory stays bounded. */
	for (i = 0; i < 20000; i++) {
		if ((r = transport_send_internal(c.t, i % 2 ? TRANSPORT_MSG_PING :
		    TRANSPORT_MSG_IGNORE, &p)) != 0 ||
		    (r = buf_put_cstring(p, "flood")) != 0 ||
		    (r = transport_send(c.t)) != 0)
			break;
		if (i % 100 == 0)
			pump(&c, &s);
	}
	pump(&c, &s);
	ok(i == 20000 && c.err == 0 && s.err == 0 && transport_is_open(s.t),
	    "20000 IGNORE/PING messages served");
	ok(buf_len(transport_output(s.t)) == 0, "no output left behind");
	/* Rekeying on time: nothing before the interval, a new kex after. */
	{
		struct side c2, s2;
		struct transport_config cc;
		time_t now = time(NULL);

		side_init(&c2);
		side_init(&s2);
		memset(&cc, 0, sizeof(cc));
		cc.rekey_seconds = 60;
		if (transport_new(&cc, &c2.t) != 0)
			abort();
		cc.server = 1;
		cc.rekey_seconds = 0;
		cc.hostkeys = hostkeys;
		cc.nhostkeys = nhostkeys;
		if (transport_new(&cc, &s2.t) != 0)
			abort();
		pump(&c2, &s2);
		ok(transport_tick(c2.t, now + 30) == 0, "tick before the interval");
		pump(&c2, &s2);
		is_int(c2.kex_done, 1, "no rekey before RekeyLimit's time");
		ok(transport_tick(c2.t, now + 61) == 0, "tick after the interval");
		pump(&c2, &s2);
		ok(c2.kex_done == 2 && s2.kex_done == 2 && c2.err == 0,
		    "a rekey starts once the interval has passed");
		side_free(&c2);
		side_free(&s2);
	}
	/* Messages sent during a key exchange are held, then sent. */
	ok(transport_rekey(c.t) == 0 && send_data(&c, (const uint8_t *)"held", 4) == 0 &&
	    transport_held_bytes(c.t) > 0, "a message sent during a rekey is held");
	i = (size_t)s.packets;
	pump(&c, &s);
	ok(transport_held_bytes(c.t) == 0 && s.packets == (int)i + 1 && c.err == 0,
	    "and delivered once the new keys are in place");
	ok(transport_unimplemented(s.t) == 0, "UNIMPLEMENTED for the last message");
	pump(&c, &s);
	ok(c.err == 0 && transport_is_open(c.t), "is understood by the peer");
	/* EXT_INFO claiming 0xFFFFFFFF extensions. */
	if (transport_send_internal(c.t, TRANSPORT_MSG_EXT_INFO, &p) != 0 ||
	    buf_put_u32(p, 0xffffffffU) != 0 || transport_send(c.t) != 0)
		abort();
	pump(&c, &s);
	ok(s.err != 0 && c.disconnected, "EXT_INFO with 0xFFFFFFFF extensions refused");
	side_free(&c);
	side_free(&s);

	/* A client that wants an algorithm the server lacks. */
	ok(handshake("curve25519-sha256", "ssh-ed25519", "aes128-ctr",
	    "hmac-sha2-256"), "sanity: a plain handshake works");
	{
		struct transport *t;
		struct transport_config cfg;

		memset(&cfg, 0, sizeof(cfg));
		cfg.ciphers = "no-such-cipher";
		is_int(transport_new(&cfg, &t), FERR_CONFIG, "unknown cipher in config");
		cfg.ciphers = "-aes128-ctr";
		ok(transport_new(&cfg, &t) == 0, "'-' removes from the default");
		transport_free(t);
	}
}

static void
test_lists(void)
{
	char *out;

	ok(transport_assemble_list("a,b,c", "a,b,c,d", "+d", &out) == 0 &&
	    strcmp(out, "a,b,c,d") == 0, "+ appends");
	free(out);
	ok(transport_assemble_list("a,b,c", "a,b,c,d", "-b", &out) == 0 &&
	    strcmp(out, "a,c") == 0, "- removes");
	free(out);
	ok(transport_assemble_list("a,b,c", "a,b,c,d", "^d,c", &out) == 0 &&
	    strcmp(out, "d,c,a,b") == 0, "^ puts first");
	free(out);
	ok(transport_assemble_list("a,b,c", "a,b,c,d", "d,a", &out) == 0 &&
	    strcmp(out, "d,a") == 0, "plain list replaces");
	free(out);
	ok(transport_assemble_list("a,b,c", "a,b,c,d", NULL, &out) == 0 &&
	    strcmp(out, "a,b,c") == 0, "NULL is the default");
	free(out);
	is_int(transport_assemble_list("a", "a,b", "x", &out), FERR_CONFIG,
	    "unknown name refused");
	is_int(transport_assemble_list("a", "a,b", "-a", &out), FERR_CONFIG,
	    "an empty result is refused");
	is_int(transport_assemble_list("a", "a,b", "a,,b", &out), FERR_CONFIG,
	    "empty names refused");
	out = transport_query("kex", 0);
	ok(out != NULL && strncmp(out, "curve25519-sha256,", 18) == 0,
	    "kex default list starts with curve25519-sha256");
	free(out);
	{
		/* The defaults man/ferry-algorithms.7 documents. */
		static const struct {
			const char *kind, *want;
		} docs[] = {
			{ "cipher", "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,"
			    "aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com" },
			{ "mac", "umac-64-etm@openssh.com,umac-128-etm@openssh.com,"
			    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
			    "umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,"
			    "hmac-sha2-512" },
			{ "key", "ssh-ed25519-cert-v01@openssh.com,"
			    "ecdsa-sha2-nistp256-cert-v01@openssh.com,"
			    "ecdsa-sha2-nistp384-cert-v01@openssh.com,"
			    "ecdsa-sha2-nistp521-cert-v01@openssh.com,"
			    "rsa-sha2-512-cert-v01@openssh.com,"
			    "rsa-sha2-256-cert-v01@openssh.com,"
			    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
			    "ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256" },
			{ "compression", "none" },
		};
		size_t i;

		for (i = 0; i < N(docs); i++) {
			out = transport_query(docs[i].kind, 0);
			ok(out != NULL && strcmp(out, docs[i].want) == 0,
			    "default %s list as documented", docs[i].kind);
			free(out);
		}
	}
	out = transport_query("key", 1);
	ok(out != NULL && strstr(out, "ssh-rsa") != NULL, "all host key algorithms");
	free(out);
	ok(transport_query("nonsense", 0) == NULL, "unknown query kind");
}

/* ---- host key signatures by callback ---- */

/* What the signing callback saw, and how it should misbehave. */
struct sign_probe {
	int calls;
	int fail;		/* return this code instead of signing */
	int wrong_data;		/* sign something other than H */
	const struct key *pub;	/* the key it was asked about */
	char alg[64];
	uint8_t data[64];
	size_t len;
};

/* Sign with the private key whose public half is pub. */
static int
sign_cb(const struct key *pub, const char *sigalg, const uint8_t *data,
    size_t len, struct buf *sig, void *ctx)
{
	struct sign_probe *sp = ctx;
	uint8_t other[64];
	size_t i;

	sp->calls++;
	sp->pub = pub;
	snprintf(sp->alg, sizeof(sp->alg), "%s", sigalg);
	sp->len = len < sizeof(sp->data) ? len : sizeof(sp->data);
	memcpy(sp->data, data, sp->len);
	if (sp->fail != 0)
		return sp->fail;
	if (sp->wrong_data) {
		memcpy(other, data, sp->len);
		other[0] ^= 1;
		data = other;
	}
	for (i = 0; i < nhostkeys; i++)
		if (key_equal_public(hostkeys[i], pub))
			return key_sign(hostkeys[i], sigalg, data, len,
			    strcmp(sigalg, "ssh-rsa") == 0 ? KEY_SIG_ALLOW_SHA1 : 0,
			    sig);
	return FERR_KEY_NOT_FOUND;
}

/* A pair whose server holds public host keys only and signs by sp. */
static void
sign_pair(struct side *c, struct side *s, const char *hk,
    struct key *const *pubs, struct sign_probe *sp)
{
	struct transport_config cc, sc;

	side_init(c);
	side_init(s);
	memset(&cc, 0, sizeof(cc));
	cc.hostkey_algorithms = hk;
	sc = cc;
	sc.server = 1;
	sc.hostkeys = pubs;
	sc.nhostkeys = nhostkeys;
	sc.hostkey_sign = sp != NULL ? sign_cb : NULL;
	sc.hostkey_sign_ctx = sp;
	if (transport_new(&cc, &c->t) != 0 || transport_new(&sc, &s->t) != 0)
		abort();
}

static void
test_sign_callback(void)
{
	struct key *pubs[PAIR_NHOSTKEYS];
	struct sign_probe sp;
	struct side c, s;
	const uint8_t *sid;
	size_t i, j, sidlen, bad = 0;

	for (i = 0; i < nhostkeys; i++)
		if (key_demote(hostkeys[i], &pubs[i]) != 0 ||
		    key_is_private(pubs[i]))
			abort();
	for (i = 0; i < N(hks); i++) {
		memset(&sp, 0, sizeof(sp));
		sign_pair(&c, &s, hks[i], pubs, &sp);
		if (send_data(&c, (const uint8_t *)"data", 4) != 0)
			abort();
		pump(&c, &s);
		sid = transport_session_id(s.t, &sidlen);
		for (j = 0; j < nhostkeys; j++)
			if (sp.pub == pubs[j])
				break;
		if (c.kex_done != 1 || s.kex_done != 1 || s.packets != 1 ||
		    c.err != 0 || s.err != 0 || sp.calls != 1 ||
		    strcmp(sp.alg, hks[i]) != 0 || j == nhostkeys ||
		    sid == NULL || sp.len != sidlen ||
		    memcmp(sp.data, sid, sidlen) != 0) {
			tap_diag("%s: kex %d/%d err %d/%d calls %d alg %s (%s)",
			    hks[i], c.kex_done, s.kex_done, c.err, s.err,
			    sp.calls, sp.alg, transport_error(s.t));
			bad++;
			side_free(&c);
			side_free(&s);
			continue;
		}
		/* A rekey asks again, over that exchange's H. */
		if (transport_rekey(c.t) != 0)
			abort();
		pump(&c, &s);
		if (c.kex_done != 2 || s.kex_done != 2 || sp.calls != 2 ||
		    sp.len != sidlen || memcmp(sp.data, sid, sidlen) == 0 ||
		    c.err != 0 || s.err != 0) {
			tap_diag("%s: rekey kex %d calls %d", hks[i], c.kex_done,
			    sp.calls);
			bad++;
		}
		side_free(&c);
		side_free(&s);
	}
	is_int(bad, 0, "public host keys and a signing callback: kex and "
	    "rekey for every host key algorithm; the callback sees exactly H");

	memset(&sp, 0, sizeof(sp));
	sp.fail = FERR_AGENT;
	sign_pair(&c, &s, "ssh-ed25519", pubs, &sp);
	pump(&c, &s);
	ok(sp.calls == 1 && s.err == FERR_AGENT && c.disconnected &&
	    c.reason == TRANSPORT_DISC_KEX_FAILED && c.kex_done == 0 &&
	    strstr(transport_error(s.t), "host key signature failed") != NULL,
	    "a failing callback ends the kex with KEX_FAILED (%s)",
	    transport_error(s.t));
	side_free(&c);
	side_free(&s);

	memset(&sp, 0, sizeof(sp));
	sp.wrong_data = 1;
	sign_pair(&c, &s, "ecdsa-sha2-nistp256", pubs, &sp);
	pump(&c, &s);
	ok(sp.calls == 1 && s.err == FERR_SIGNATURE_INVALID && c.disconnected &&
	    c.kex_done == 0 &&
	    strstr(transport_error(s.t), "invalid signature") != NULL,
	    "a signature over other data is caught before it is sent");
	side_free(&c);
	side_free(&s);

	sign_pair(&c, &s, "ssh-ed25519", pubs, NULL);
	pump(&c, &s);
	ok(s.err != 0 && c.disconnected && c.kex_done == 0,
	    "public host keys without a callback fail cleanly (%s)",
	    transport_error(s.t));
	side_free(&c);
	side_free(&s);
	for (i = 0; i < nhostkeys; i++)
		key_free(pubs[i]);
}

/* ---- host certificates ---- */

static const char *cert_algs[] = {
	"ssh-ed25519-cert-v01@openssh.com",
	"ecdsa-sha2-nistp256-cert-v01@openssh.com",
	"ecdsa-sha2-nistp384-cert-v01@openssh.com",
	"ecdsa-sha2-nistp521-cert-v01@openssh.com",
	"rsa-sha2-512-cert-v01@openssh.com",
	"rsa-sha2-256-cert-v01@openssh.com",
	"ssh-rsa-cert-v01@openssh.com",
};
/* Base signature algorithm of each of cert_algs. */
static const char *cert_sigalgs[] = {
	"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa",
};

/* What the client's certificate callback saw and answers. */
struct cert_probe {
	int calls;
	int plain_calls;
	int answer;
	const struct key *ca;	/* the CA it trusts */
	uint8_t blob[4096];
	size_t bloblen;
	int ca_ok;
};

static int
cert_check_cb(const struct key_cert *cert, void *ctx)
{
	struct cert_probe *cp = ctx;

	cp->calls++;
	cp->ca_ok = cp->ca != NULL && key_equal_public(cert->ca, cp->ca) &&
	    cert->type == KEY_CERT_HOST;
	cp->bloblen = cert->bloblen < sizeof(cp->blob) ? cert->bloblen : 0;
	memcpy(cp->blob, cert->blob, cp->bloblen);
	return cp->answer;
}

static int
cert_plain_cb(const struct key *key, void *ctx)
{
	struct cert_probe *cp = ctx;

	(void)key;
	cp->plain_calls++;
	return 0;
}

/* A pair: the server holds hostkeys (or pubs) and certs. */
static int
cert_pair(struct side *c, struct side *s, const char *chk, const char *shk,
    struct key *const *keys, const struct key_cert *const *certs,
    size_t ncerts, struct cert_probe *cp, struct sign_probe *sp)
{
	struct transport_config cc, sc;
	int r;

	side_init(c);
	side_init(s);
	memset(&cc, 0, sizeof(cc));
	cc.hostkey_algorithms = chk;
	cc.hostkey_check = cert_plain_cb;
	cc.hostcert_check = cert_check_cb;
	cc.hostkey_ctx = cp;
	memset(&sc, 0, sizeof(sc));
	sc.server = 1;
	sc.hostkey_algorithms = shk;
	sc.hostkeys = keys;
	sc.nhostkeys = nhostkeys;
	sc.hostcerts = certs;
	sc.nhostcerts = ncerts;
	sc.hostkey_sign = sp != NULL ? sign_cb : NULL;
	sc.hostkey_sign_ctx = sp;
	if (transport_new(&cc, &c->t) != 0)
		abort();
	if ((r = transport_new(&sc, &s->t)) != 0)
		return r;
	return 0;
}

/* The host key algorithm list of the server's first KEXINIT. */
static char *
server_offer(struct side *c, struct side *s)
{
	struct buf *b;
	const uint8_t *p;
	size_t len;
	char *out = NULL;

	move(c, s, SIZE_MAX);
	side_poll(s);
	if (s->t->kex == NULL || (b = buf_from(buf_ptr(s->t->kex->my_kexinit),
	    buf_len(s->t->kex->my_kexinit))) == NULL)
		return NULL;
	if (buf_consume(b, 1 + 16) == 0 &&
	    buf_get_string_direct(b, &p, &len) == 0 &&
	    buf_get_string_direct(b, &p, &len) == 0 &&
	    (out = malloc(len + 1)) != NULL) {
		memcpy(out, p, len);
		out[len] = '\0';
	}
	buf_free(b);
	return out;
}

static void
test_hostcert(void)
{
	struct key_cert *certs[PAIR_NHOSTKEYS], *usercert = NULL,
	    *othercert = NULL;
	struct key *ca = NULL, *other = NULL, *pubs[PAIR_NHOSTKEYS];
	struct key_cert_params params;
	const char *princ[] = { "localhost" };
	struct cert_probe cp;
	struct sign_probe sp;
	struct side c, s;
	char *offer;
	size_t i, j, bad = 0;
	int r;

	if (key_generate(KEY_ED25519, 0, &ca) != 0 ||
	    key_generate(KEY_ED25519, 0, &other) != 0)
		abort();
	memset(&params, 0, sizeof(params));
	params.type = KEY_CERT_HOST;
	params.key_id = "host";
	params.principals = princ;
	params.nprincipals = 1;
	params.valid_before = KEY_CERT_FOREVER;
	for (i = 0; i < nhostkeys; i++)
		if (key_cert_sign(hostkeys[i], ca, &params, &certs[i]) != 0 ||
		    key_demote(hostkeys[i], &pubs[i]) != 0)
			abort();

	/* Every certificate algorithm, signed by the key and by callback. */
	for (i = 0; i < N(cert_algs); i++) {
		for (j = 0; j < 2; j++) {
			memset(&cp, 0, sizeof(cp));
			memset(&sp, 0, sizeof(sp));
			cp.ca = ca;
			if (cert_pair(&c, &s, cert_algs[i], cert_algs[i],
			    j ? pubs : hostkeys,
			    (const struct key_cert *const *)certs, nhostkeys,
			    &cp, j ? &sp : NULL) != 0)
				abort();
			if (send_data(&c, (const uint8_t *)"data", 4) != 0)
				abort();
			pump(&c, &s);
			if (c.kex_done != 1 || s.kex_done != 1 ||
			    s.packets != 1 || c.err != 0 || s.err != 0 ||
			    cp.calls != 1 || cp.plain_calls != 0 || !cp.ca_ok ||
			    strcmp(transport_algorithm(c.t,
			    TRANSPORT_ALG_HOSTKEY), cert_algs[i]) != 0 ||
			    transport_server_hostkey(c.t) == NULL ||
			    key_get_type(transport_server_hostkey(c.t)) !=
			    key_get_type(certs[i < 4 ? i : 4]->key) ||
			    !key_equal_public(transport_server_hostkey(c.t),
			    certs[i < 4 ? i : 4]->key) ||
			    cp.bloblen != certs[i < 4 ? i : 4]->bloblen ||
			    memcmp(cp.blob, certs[i < 4 ? i : 4]->blob,
			    cp.bloblen) != 0 ||
			    (j && (sp.calls != 1 ||
			    strcmp(sp.alg, cert_sigalgs[i]) != 0))) {
				tap_diag("%s/%zu: kex %d/%d err %d/%d calls %d "
				    "sign %s (%s / %s)", cert_algs[i], j,
				    c.kex_done, s.kex_done, c.err, s.err,
				    cp.calls, sp.alg, transport_error(c.t),
				    transport_error(s.t));
				bad++;
			} else {
				/* A rekey presents the certificate again. */
				if (transport_rekey(c.t) != 0)
					abort();
				pump(&c, &s);
				if (c.kex_done != 2 || cp.calls != 2 ||
				    c.err != 0 || s.err != 0)
					bad++;
			}
			side_free(&c);
			side_free(&s);
		}
	}
	is_int(bad, 0, "every certificate host key algorithm: K_S is the "
	    "certificate, the client's callback gets it, H is signed with "
	    "the base algorithm (by the key or the signing callback); rekey");

	/* The server offers certificates first, only for what it holds. */
	memset(&cp, 0, sizeof(cp));
	if (cert_pair(&c, &s, NULL, NULL, hostkeys,
	    (const struct key_cert *const *)certs, 1, &cp, NULL) != 0)
		abort();
	offer = server_offer(&c, &s);
	ok(offer != NULL && strcmp(offer,
	    "ssh-ed25519-cert-v01@openssh.com,ssh-ed25519,"
	    "ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"
	    "rsa-sha2-512,rsa-sha2-256") == 0,
	    "the server's KEXINIT offers its certificate algorithm before the "
	    "plain ones (%s)", offer != NULL ? offer : "-");
	free(offer);
	side_free(&c);
	side_free(&s);

	memset(&cp, 0, sizeof(cp));
	if (cert_pair(&c, &s, NULL, "-ssh-ed25519-cert-v01@openssh.com", hostkeys,
	    (const struct key_cert *const *)certs, 1, &cp, NULL) != 0)
		abort();
	offer = server_offer(&c, &s);
	ok(offer != NULL && strstr(offer, "cert") == NULL &&
	    strncmp(offer, "ssh-ed25519,", 12) == 0,
	    "HostKeyAlgorithms without certificates: none offered (%s)",
	    offer != NULL ? offer : "-");
	free(offer);
	side_free(&c);
	side_free(&s);

	/* The defaults of both negotiate a certificate. */
	memset(&cp, 0, sizeof(cp));
	cp.ca = ca;
	if (cert_pair(&c, &s, NULL, NULL, hostkeys,
	    (const struct key_cert *const *)certs, nhostkeys, &cp, NULL) != 0)
		abort();
	pump(&c, &s);
	ok(c.kex_done == 1 && cp.calls == 1 && cp.plain_calls == 0 &&
	    strcmp(transport_algorithm(c.t, TRANSPORT_ALG_HOSTKEY),
	    "ssh-ed25519-cert-v01@openssh.com") == 0,
	    "default lists on both sides negotiate the certificate");
	side_free(&c);
	side_free(&s);

	/* Restricted by the server: the client falls back to the plain key. */
	memset(&cp, 0, sizeof(cp));
	cp.ca = ca;
	if (cert_pair(&c, &s, "ssh-ed25519-cert-v01@openssh.com,ssh-ed25519",
	    "ssh-ed25519", hostkeys, (const struct key_cert *const *)certs,
	    nhostkeys, &cp, NULL) != 0)
		abort();
	pump(&c, &s);
	ok(c.kex_done == 1 && cp.calls == 0 && cp.plain_calls == 1 &&
	    strcmp(transport_algorithm(c.t, TRANSPORT_ALG_HOSTKEY),
	    "ssh-ed25519") == 0,
	    "a server whose HostKeyAlgorithms leaves certificates out sends "
	    "the plain key");
	side_free(&c);
	side_free(&s);

	memset(&cp, 0, sizeof(cp));
	if (cert_pair(&c, &s, "ssh-ed25519-cert-v01@openssh.com",
	    "ssh-ed25519", hostkeys, (const struct key_cert *const *)certs,
	    nhostkeys, &cp, NULL) != 0)
		abort();
	pump(&c, &s);
	ok(c.kex_done == 0 && cp.calls == 0 && (c.err != 0 || s.err != 0),
	    "a client asking only for a certificate the server does not offer "
	    "fails");
	side_free(&c);
	side_free(&s);

	/* No certificate held for the type: not offered. */
	memset(&cp, 0, sizeof(cp));
	if (cert_pair(&c, &s, "ecdsa-sha2-nistp256-cert-v01@openssh.com",
	    NULL, hostkeys, (const struct key_cert *const *)certs, 1, &cp,
	    NULL) != 0)
		abort();
	pump(&c, &s);
	ok(c.kex_done == 0 && cp.calls == 0,
	    "no certificate algorithm for a key type without a certificate");
	side_free(&c);
	side_free(&s);

	/* The client's callback refuses. */
	memset(&cp, 0, sizeof(cp));
	cp.answer = FERR_CERT_INVALID;
	if (cert_pair(&c, &s, "ssh-ed25519-cert-v01@openssh.com", NULL,
	    hostkeys, (const struct key_cert *const *)certs, nhostkeys, &cp,
	    NULL) != 0)
		abort();
	pump(&c, &s);
	ok(c.kex_done == 0 && cp.calls == 1 && c.err == FERR_CERT_INVALID &&
	    s.disconnected && s.reason == TRANSPORT_DISC_HOST_KEY_NOT_VERIFIABLE,
	    "a refused certificate ends the exchange (HOST_KEY_NOT_VERIFIABLE)");
	side_free(&c);
	side_free(&s);

	/* Configuration errors. */
	if (key_cert_sign(other, ca, &params, &othercert) != 0)
		abort();
	params.type = KEY_CERT_USER;
	if (key_cert_sign(hostkeys[0], ca, &params, &usercert) != 0)
		abort();
	memset(&cp, 0, sizeof(cp));
	r = cert_pair(&c, &s, NULL, NULL, hostkeys,
	    (const struct key_cert *const *)&othercert, 1, &cp, NULL);
	ok(r == FERR_CONFIG && s.t == NULL,
	    "a certificate for a key the server does not hold: FERR_CONFIG");
	side_free(&c);
	side_free(&s);
	r = cert_pair(&c, &s, NULL, NULL, hostkeys,
	    (const struct key_cert *const *)&usercert, 1, &cp, NULL);
	ok(r == FERR_CONFIG && s.t == NULL,
	    "a user certificate as host certificate: FERR_CONFIG");
	side_free(&c);
	side_free(&s);

	/* A client without a certificate callback refuses certificates. */
	{
		struct transport_config cc, sc;

		side_init(&c);
		side_init(&s);
		memset(&cc, 0, sizeof(cc));
		memset(&cp, 0, sizeof(cp));
		cc.hostkey_algorithms = "ssh-ed25519-cert-v01@openssh.com";
		cc.hostkey_check = cert_plain_cb;
		cc.hostkey_ctx = &cp;
		memset(&sc, 0, sizeof(sc));
		sc.server = 1;
		sc.hostkeys = hostkeys;
		sc.nhostkeys = nhostkeys;
		sc.hostcerts = (const struct key_cert *const *)certs;
		sc.nhostcerts = 1;
		if (transport_new(&cc, &c.t) != 0 ||
		    transport_new(&sc, &s.t) != 0)
			abort();
		pump(&c, &s);
		ok(c.kex_done == 1 && cp.plain_calls == 1 && c.err == 0 &&
		    key_equal_public(transport_server_hostkey(c.t),
		    hostkeys[0]),
		    "a client with hostkey_check but no hostcert_check judges "
		    "the certified key as a plain key");
		side_free(&c);
		side_free(&s);
		side_init(&c);
		side_init(&s);
		cp.plain_calls = 0;
		cc.hostkey_check = NULL;
		cc.hostcert_check = cert_check_cb;
		cp.answer = FERR_HOSTKEY_MISMATCH;
		if (transport_new(&cc, &c.t) != 0 ||
		    transport_new(&sc, &s.t) != 0)
			abort();
		pump(&c, &s);
		ok(c.kex_done == 0 && cp.calls == 1 && cp.plain_calls == 0 &&
		    c.err == FERR_HOSTKEY_MISMATCH,
		    "with hostcert_check only, its refusal counts");
		side_free(&c);
		side_free(&s);
	}

	key_cert_free(usercert);
	key_cert_free(othercert);
	for (i = 0; i < nhostkeys; i++) {
		key_cert_free(certs[i]);
		key_free(pubs[i]);
	}
	key_free(ca);
	key_free(other);
}

int
main(void)
{
	pair_hostkeys_init();
	test_lists();
	test_matrix();
	test_stream("aes128-gcm@openssh.com", NULL);
	test_stream("chacha20-poly1305@openssh.com", NULL);
	test_stream("aes256-ctr", "umac-64-etm@openssh.com");
	test_hostile_framing();
	test_hostile_kexinit();
	test_hostile_kex_values();
	test_kex_guess();
	test_tamper();
	test_nomatch();
	test_misc();
	test_sign_callback();
	test_hostcert();
	pair_hostkeys_free();
	return tap_done();
}
