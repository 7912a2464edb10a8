/*
 * Fuzz target for ssh-agent replies: the input is what the agent sends,
 * fed through a socket pair to agent_list and then to agent_sign on a
 * fresh connection.  Listed identities must be consistent; a signature
 * is only ever accepted if it verifies, which fuzzed bytes do not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ferry/agent.h"
#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEmqSKi2hbEMmTRm7yg" \
	"xkcvIBhFdpGkw4CDRvRMdwhcW"
/* Stay well inside a socket buffer: the peer never reads. */
#define FUZZ_MAX 32768

static struct agent *
fuzz_agent(const uint8_t *data, size_t size, int *peerp)
{
	struct agent *ag;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		fuzz_abort();
	if (size > 0 && write(sv[1], data, size) != (ssize_t)size)
		fuzz_abort();
	shutdown(sv[1], SHUT_WR);
	/* The request is written to sv[1], which stays open unread. */
	if (agent_from_fd(sv[0], 1000, &ag) != 0)
		fuzz_abort();
	*peerp = sv[1];
	return ag;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct key *k;
	struct agent_identities *ids = NULL;
	struct agent *ag;
	struct buf *sig;
	size_t i;
	int peer;

	if (size > FUZZ_MAX)
		return 0;
	if (k == NULL && key_parse_public_line(FUZZ_KEY, &k) != 0)
		fuzz_abort();
	ag = fuzz_agent(data, size, &peer);
	if (agent_list(ag, &ids) == 0) {
		if (ids == NULL)
			fuzz_abort();
		for (i = 0; i < ids->n; i++)
			if (ids->ids[i].blob == NULL ||
			    ids->ids[i].comment == NULL)
				fuzz_abort();
	} else if (ids != NULL)
		fuzz_abort();
	agent_identities_free(ids);
	agent_close(ag);
	close(peer);

	ag = fuzz_agent(data, size, &peer);
	if ((sig = buf_new()) == NULL)
		fuzz_abort();
	if (agent_sign(ag, k, NULL, (const uint8_t *)"data", 4, 0, sig) == 0)
		fuzz_abort();
	if (buf_len(sig) != 0)
		fuzz_abort();
	buf_free(sig);
	agent_close(ag);
	close(peer);
	return 0;
}
