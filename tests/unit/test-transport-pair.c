/*
 * Two transport engines back to back in memory: see test-transport-pair.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/transport.h"
#include "test-transport-pair.h"

struct key *hostkeys[PAIR_NHOSTKEYS];
size_t nhostkeys;

void
side_init(struct side *s)
{
	memset(s, 0, sizeof(*s));
	if ((s->rx_hash = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(s->rx_hash, EVP_sha256(), NULL) != 1)
		abort();
}

void
side_free(struct side *s)
{
	transport_free(s->t);
	EVP_MD_CTX_free(s->rx_hash);
}

void
side_poll(struct side *s)
{
	struct transport_event ev;
	int r;

	while (s->err == 0 && !s->disconnected) {
		if ((r = transport_poll(s->t, &ev)) != 0) {
			s->err = r;
			return;
		}
		switch (ev.type) {
		case TRANSPORT_EV_NONE:
			return;
		case TRANSPORT_EV_KEX_DONE:
			s->kex_done++;
			break;
		case TRANSPORT_EV_DISCONNECT:
			s->disconnected = 1;
			s->reason = ev.reason;
			return;
		case TRANSPORT_EV_PACKET:
			s->packets++;
			s->rx_bytes += buf_len(ev.payload);
			EVP_DigestUpdate(s->rx_hash, buf_ptr(ev.payload),
			    buf_len(ev.payload));
			break;
		default:
			break;
		}
	}
}

size_t
move(struct side *a, struct side *b, size_t max)
{
	struct buf *out = transport_output(a->t);
	size_t n = buf_len(out);

	if (n > max)
		n = max;
	if (n == 0 || b->err != 0 || b->disconnected)
		return 0;
	if (transport_input(b->t, buf_ptr(out), n) != 0 ||
	    buf_consume(out, n) != 0)
		return 0;
	return n;
}

void
pump(struct side *c, struct side *s)
{
	size_t moved;
	int rounds = 0;

	do {
		side_poll(c);
		side_poll(s);
		moved = move(c, s, 1 << 20) + move(s, c, 1 << 20);
	} while ((moved != 0 || rounds++ < 2) && rounds < 100000);
	side_poll(c);
	side_poll(s);
}

int
new_pair(struct side *c, struct side *s, const char *kex, const char *hk,
    const char *cipher, const char *mac, uint64_t rekey)
{
	struct transport_config cc, sc;
	int r;

	side_init(c);
	side_init(s);
	memset(&cc, 0, sizeof(cc));
	cc.kex_algorithms = kex;
	cc.hostkey_algorithms = hk;
	cc.ciphers = cipher;
	cc.macs = mac;
	cc.rekey_bytes = rekey;
	sc = cc;
	sc.server = 1;
	sc.hostkeys = hostkeys;
	sc.nhostkeys = nhostkeys;
	if ((r = transport_new(&cc, &c->t)) != 0)
		return r;
	return transport_new(&sc, &s->t);
}

int
send_data(struct side *a, const uint8_t *d, size_t len)
{
	struct buf *p;
	int r;

	if ((r = transport_packet_start(a->t, TEST_MSG, &p)) != 0 ||
	    (r = buf_put(p, d, len)) != 0)
		return r;
	return transport_send(a->t);
}

void
pair_hostkeys_init(void)
{
	static const enum key_type types[PAIR_NHOSTKEYS] = {
		KEY_ED25519, KEY_ECDSA_P256, KEY_ECDSA_P384, KEY_ECDSA_P521, KEY_RSA,
	};
	size_t i;

	for (i = 0; i < PAIR_NHOSTKEYS; i++)
		if (key_generate(types[i], types[i] == KEY_RSA ? 2048 : 0,
		    &hostkeys[nhostkeys++]) != 0)
			abort();
}

void
pair_hostkeys_free(void)
{
	size_t i;

	for (i = 0; i < nhostkeys; i++)
		key_free(hostkeys[i]);
	nhostkeys = 0;
}
