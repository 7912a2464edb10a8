/*
 * ClientAliveInterval and ClientAliveCountMax: after each quiet interval
 * (no packet from the client) fsshd asks keepalive@openssh.com with a
 * reply wanted; any reply shows the client alive.  When more than
 * ClientAliveCountMax requests in a row go unanswered the connection is
 * ended, as sshd does (ClientAliveCountMax 0: never).
 */
#include "config.h"

#include <limits.h>

#include "fsshd-auth.h"

int
fsshd_alive_tick(struct fsshd_alive *a)
{
	if (a->heard) {
		/* Traffic in this interval: nothing to ask yet. */
		a->heard = 0;
		return FSSHD_ALIVE_QUIET;
	}
	/* ClientAliveCountMax 0 asks forever and never gives up. */
	if (a->missed < UINT_MAX)
		a->missed++;
	if (a->count_max > 0 && a->missed > a->count_max)
		return FSSHD_ALIVE_DEAD;
	return FSSHD_ALIVE_SEND;
}

void
fsshd_alive_heard(struct fsshd_alive *a, int is_reply)
{
	a->heard = 1;
	if (is_reply)
		a->missed = 0;
}
