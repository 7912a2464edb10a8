/*
 * transport_input_fill: received bytes stored straight into the engine's
 * input.  A client and a server finish a key exchange and move data when
 * every byte arrives that way, in odd pieces and with empty reads mixed
 * in; fill sees no more room than the input cap leaves, and nothing at
 * all once the input is full; a fill that claims more than its room, a
 * zero max and a closed engine are refused with nothing appended;
 * transport_fill_fd hands back read(2)'s result and errno.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/transport.h"
#include "tap.h"
#include "test-transport-pair.h"

/* A fill that copies from src, at most step bytes a call. */
struct feeder {
	const uint8_t *src;
	size_t len;
	size_t step;
	size_t room;		/* the room of the last call */
	size_t calls;
	int lie;		/* claim room + 1 */
};

static size_t
feed_fill(void *arg, uint8_t *p, size_t room)
{
	struct feeder *f = arg;
	size_t n = f->len < f->step ? f->len : f->step;

	f->calls++;
	f->room = room;
	if (f->lie)
		return room + 1;
	if (n > room)
		n = room;
	memcpy(p, f->src, n);
	f->src += n;
	f->len -= n;
	return n;
}

/* Move a's output to b through fill, step bytes a call, with empty calls. */
static size_t
move_fill(struct side *a, struct side *b, size_t step)
{
	struct buf *out = transport_output(a->t);
	struct feeder f;
	size_t moved;

	if (buf_len(out) == 0 || b->err != 0 || b->disconnected)
		return 0;
	memset(&f, 0, sizeof(f));
	f.src = buf_ptr(out);
	f.len = buf_len(out);
	f.step = step;
	while (f.len > 0) {
		if (transport_input_fill(b->t, 4096, feed_fill, &f) != 0)
			break;
		/* An empty read (EAGAIN) in between appends nothing. */
		f.step = 0;
		if (transport_input_fill(b->t, 4096, feed_fill, &f) != 0)
			break;
		f.step = step;
	}
	moved = buf_len(out) - f.len;
	if (buf_consume(out, moved) != 0)
		return 0;
	return moved;
}

static void
pump_fill(struct side *c, struct side *s, size_t step)
{
	size_t moved;
	int rounds = 0;

	do {
		side_poll(c);
		side_poll(s);
		moved = move_fill(c, s, step) + move_fill(s, c, step);
	} while ((moved != 0 || rounds++ < 2) && rounds < 100000);
	side_poll(c);
	side_poll(s);
}

static void
test_exchange(const char *cipher, size_t step)
{
	struct side c, s;
	uint8_t data[100000], hc[32], hs[32];
	unsigned int lc, ls;
	size_t i;
	int r;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	r = new_pair(&c, &s, NULL, NULL, cipher, NULL, 0);
	is_int(r, 0, "%s: pair", cipher);
	pump_fill(&c, &s, step);
	ok(c.kex_done && s.kex_done && c.err == 0 && s.err == 0,
	    "%s: key exchange over fill, %zu bytes a read", cipher, step);
	EVP_DigestInit_ex(c.rx_hash, EVP_sha256(), NULL);
	EVP_DigestInit_ex(s.rx_hash, EVP_sha256(), NULL);
	is_int(send_data(&c, data, sizeof(data)), 0, "%s: send", cipher);
	is_int(send_data(&c, data, 1), 0, "%s: send a short packet", cipher);
	pump_fill(&c, &s, step);
	is_int((int)s.rx_bytes, (int)sizeof(data) + 1,
	    "%s: every payload byte arrives", cipher);
	EVP_DigestUpdate(c.rx_hash, data, sizeof(data));
	EVP_DigestUpdate(c.rx_hash, data, 1);
	EVP_DigestFinal_ex(c.rx_hash, hc, &lc);
	EVP_DigestFinal_ex(s.rx_hash, hs, &ls);
	is_mem(hs, sizeof(hs), hc, sizeof(hc), "%s: byte-exact", cipher);
	side_free(&c);
	side_free(&s);
}

/* The input cap bounds the room; a full input gets no call at all. */
static void
test_cap(void)
{
	struct side c, s;
	struct feeder f;
	uint8_t *junk;
	size_t cap;

	cap = (size_t)64 * 1024 * 1024;
	if (!ok(new_pair(&c, &s, NULL, NULL, NULL, NULL, 0) == 0 &&
	    (junk = calloc(1, cap)) != NULL, "pair and a big buffer"))
		return;
	memset(&f, 0, sizeof(f));
	f.src = junk;
	f.len = cap;
	f.step = cap;
	is_int(transport_input_fill(s.t, cap, feed_fill, &f), 0,
	    "a fill as large as it may be");
	ok(f.room > 0 && f.room < cap && f.len == cap - f.room,
	    "fill is offered the input cap's room, not max, and fills it");
	f.calls = 0;
	is_int(transport_input_fill(s.t, 4096, feed_fill, &f), FERR_NO_SPACE,
	    "a full input: FERR_NO_SPACE");
	is_int((int)f.calls, 0, "and fill is not called");
	is_int(transport_input(s.t, junk, 1), FERR_NO_SPACE,
	    "transport_input agrees");
	free(junk);
	side_free(&c);
	side_free(&s);
}

static void
test_refusals(void)
{
	struct side c, s;
	struct feeder f;
	uint8_t byte = 'x';

	if (!ok(new_pair(&c, &s, NULL, NULL, NULL, NULL, 0) == 0, "pair"))
		return;
	memset(&f, 0, sizeof(f));
	f.src = &byte;
	f.len = 1;
	f.step = 1;
	is_int(transport_input_fill(s.t, 0, feed_fill, &f), FERR_ARGUMENT,
	    "max 0: FERR_ARGUMENT");
	is_int((int)f.calls, 0, "and fill is not called");
	f.lie = 1;
	is_int(transport_input_fill(s.t, 16, feed_fill, &f), FERR_ARGUMENT,
	    "a fill that claims more than its room: FERR_ARGUMENT");
	f.lie = 0;
	/* Nothing was appended: the exchange still works. */
	pump(&c, &s);
	ok(c.kex_done && s.kex_done && c.err == 0 && s.err == 0,
	    "nothing of the refused fills became input");
	is_int(transport_disconnect(s.t, 11, "bye"), 0, "disconnect");
	f.calls = 0;
	is_int(transport_input_fill(s.t, 16, feed_fill, &f),
	    FERR_CONN_CLOSED, "a closed engine: FERR_CONN_CLOSED");
	is_int((int)f.calls, 0, "and fill is not called");
	side_free(&c);
	side_free(&s);
}

/* transport_fill_fd: one read(2), its result and errno handed back. */
static void
test_fill_fd(void)
{
	struct transport_fd_read rd;
	uint8_t out[8];
	int fds[2];

	if (!ok(pipe2(fds, O_NONBLOCK) == 0, "pipe"))
		return;
	rd.fd = fds[0];
	is_int((int)transport_fill_fd(&rd, out, sizeof(out)), 0,
	    "an empty pipe fills nothing");
	ok(rd.n == -1 && rd.err == EAGAIN, "and says EAGAIN");
	if (!ok(write(fds[1], "0123456789", 10) == 10, "write"))
		return;
	is_int((int)transport_fill_fd(&rd, out, sizeof(out)), 8,
	    "at most room bytes are read");
	ok(rd.n == 8 && memcmp(out, "01234567", 8) == 0, "those bytes");
	close(fds[1]);
	is_int((int)transport_fill_fd(&rd, out, sizeof(out)), 2,
	    "the rest");
	is_int((int)transport_fill_fd(&rd, out, sizeof(out)), 0,
	    "then nothing");
	is_int((int)rd.n, 0, "at end of file n is 0");
	close(fds[0]);
}

int
main(void)
{
	pair_hostkeys_init();
	test_exchange("aes128-gcm@openssh.com", 4096);
	test_exchange("chacha20-poly1305@openssh.com", 1);
	test_exchange("aes128-ctr", 777);
	test_cap();
	test_refusals();
	test_fill_fd();
	pair_hostkeys_free();
	return tap_done();
}
