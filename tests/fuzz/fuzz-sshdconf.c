/*
 * Fuzz target for the sshd_config(5) reader: the input is a whole
 * configuration file; when it loads, Match is applied for a few
 * connections and the result printed as sshd -T does.  Inputs that
 * mention Include are skipped: they would read the machine's files.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/sshdconf.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *groups[] = { "staff", "users", NULL };
	static const struct {
		char *user, *host, *addr, *laddr;
		int lport;
	} conns[] = {
		{ "root", "host.example.com", "10.1.2.3", "127.0.0.1", 22 },
		{ "alice", "x", "2001:db8::1", "::1", 2222 },
		{ NULL, NULL, NULL, NULL, -1 },
	};
	struct sshdconf *c = NULL, *eff;
	struct sshdconf_conn conn;
	struct buf *b;
	size_t i;
	int r;

	for (i = 0; i + 7 <= size; i++)
		if (strncasecmp((const char *)data + i, "include", 7) == 0)
			return 0;
	if ((b = buf_new()) == NULL)
		fuzz_abort();
	r = sshdconf_load_string((const char *)data, size, "fuzz", NULL, 0,
	    &c);
	if ((r == 0) != (c != NULL) || (r != 0 && r != FERR_CONFIG &&
	    !fuzz_nomem()))
		fuzz_abort();
	if (c != NULL) {
		if (c->nports == 0 || sshdconf_dump(c, b) != 0)
			fuzz_abort();
		for (i = 0; i < sizeof(conns) / sizeof(conns[0]); i++) {
			memset(&conn, 0, sizeof(conn));
			conn.user = conns[i].user;
			conn.host = conns[i].host;
			conn.address = conns[i].addr;
			conn.laddress = conns[i].laddr;
			conn.lport = conns[i].lport;
			conn.groups.v = groups;
			conn.groups.n = 2;
			if (sshdconf_match(c, &conn, &eff) != 0)
				fuzz_abort();
			buf_reset(b);
			if (sshdconf_dump(eff, b) != 0)
				fuzz_abort();
			sshdconf_free(eff);
		}
	}
	buf_free(b);
	sshdconf_free(c);
	return 0;
}
