/*
 * Fuzz target for the connection protocol's message parsers: the first
 * byte picks the role and window mode, then messages (byte msg, uint16
 * length, payload) go to a fresh conn on a fresh transport whose
 * program accepts opens, answers requests, writes back and consumes
 * data, and closes on EOF.  The client role opens a session first so
 * confirmations and replies are reachable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/buf.h"
#include "ferry/conn.h"
#include "ferry/err.h"
#include "ferry/transport.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Calls whose failure is a legitimate answer to hostile input. */
static unsigned int fz_refused;
#define FZ_TRY(x)	do { if ((x) != 0) fz_refused++; } while (0)

static void
fz_event(struct conn *c, const struct conn_event *ev, int manual,
    unsigned int n)
{
	uint8_t *d;
	size_t sent, len;

	switch (ev->type) {
	case CONN_EV_OPEN_REQUEST:
		if (n % 3 == 0)
			FZ_TRY(conn_open_reject(c, ev->chan,
			    CONN_OPEN_ADMINISTRATIVELY_PROHIBITED, "no"));
		else if (n % 3 == 1)
			FZ_TRY(conn_open_accept(c, ev->chan));
		break;
	case CONN_EV_REQUEST:
		if (ev->want_reply && n % 2 == 0)
			FZ_TRY(conn_reply(c, ev->chan, ev->req == CONN_REQ_EXEC));
		if (ev->req == CONN_REQ_EXEC && ev->text[ev->text_len] != '\0')
			fuzz_abort();
		break;
	case CONN_EV_DATA:
	case CONN_EV_EXTENDED_DATA:
		if (manual && conn_consumed(c, ev->chan, ev->len) != 0)
			fuzz_abort();
		FZ_TRY(conn_write(c, ev->chan, ev->data, ev->len, &sent));
		break;
	case CONN_EV_WINDOW:
	case CONN_EV_OPENED:
		if (conn_data_start(c, ev->chan, 100, &d, &len) == 0 &&
		    len != 0) {
			memset(d, 'x', len);
			if (conn_data_commit(c, len / 2) != 0)
				fuzz_abort();
		}
		FZ_TRY(conn_request_exec(c, ev->chan, "true", 1));
		break;
	case CONN_EV_EOF:
		FZ_TRY(conn_send_exit_status(c, ev->chan, 0));
		FZ_TRY(conn_eof(c, ev->chan));
		FZ_TRY(conn_close(c, ev->chan));
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct transport_config tc;
	struct conn_config cc;
	struct conn_event ev;
	struct transport *t = NULL;
	struct conn *c = NULL;
	struct buf *m;
	size_t off = 1, len;
	uint32_t chan;
	unsigned int n = 0;
	uint8_t msg, flags = size > 0 ? data[0] : 0;
	int r = 0;

	memset(&tc, 0, sizeof(tc));
	memset(&cc, 0, sizeof(cc));
	cc.server = tc.server = flags & 1;
	cc.manual_window = (flags & 2) != 0;
	cc.window = (flags & 4) ? 1000 : 0;
	cc.max_channels = 8;
	if (transport_new(&tc, &t) != 0 || conn_new(t, &cc, &c) != 0 ||
	    (!cc.server && (conn_open(c, "session", NULL, 0, &chan) != 0 ||
	    conn_global_request(c, "keepalive@openssh.com", 1) != 0))) {
		if (!fuzz_nomem())
			fuzz_abort();
		goto out;
	}
	while (size >= off && size - off >= 3 && r == 0) {
		msg = data[off];
		len = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		if ((m = buf_from(data + off, len)) == NULL) {
			if (!fuzz_nomem())
				fuzz_abort();
			break;
		}
		r = conn_input(c, msg, m, &ev);
		if (r == 0)
			fz_event(c, &ev, cc.manual_window, n++);
		buf_free(m);
		off += len;
	}
	if (conn_nchannels(c) > 8)
		fuzz_abort();
out:
	conn_free(c);
	transport_free(t);
	return 0;
}
