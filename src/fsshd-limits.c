/*
 * The listener's connection limits: MaxStartups (random early drop of
 * new connections while many are unauthenticated) and per-source
 * penalties (OpenSSH's PerSourcePenalties): sources whose connections
 * crash the pre-auth process, fail to authenticate, leave without
 * trying, or outstay LoginGraceTime are refused for a while.
 *
 * A penalty adds its duration to the source's record (a new record
 * starts now); the record never reaches further than max into the
 * future, and the source is refused only once what it accumulated
 * reaches min, until the record expires.  Sources are counted by
 * network block (PerSourceNetBlockSize, /32 and /128 by default);
 * PerSourcePenaltyExemptList names blocks never penalised.  When the
 * table is full (max-sources4/6), "permissive" stops adding records,
 * "deny-all" refuses every new connection of that family until records
 * expire.
 *
 * Everything here runs in the listener, which never parses protocol
 * data: its inputs are accepted addresses and the exit statuses of
 * per-connection processes (FSSHD_EXIT_*).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <openssl/rand.h>

#include "config-util.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sshdconf.h"
#include "fsshd.h"

struct fsshd_penalty {
	int family;
	uint8_t net[16];		/* masked address */
	time_t expiry;
	int active;
};

struct fsshd_limits {
	const struct sshdconf *conf;
	struct fsshd_penalty *pen;
	size_t npen, cap;
	int bits4, bits6;
};

/* Penalty kinds, indexed by what fsshd_limits_kind() returns. */
enum fsshd_pkind {
	FSSHD_PK_NONE = 0, FSSHD_PK_CRASH, FSSHD_PK_AUTHFAIL,
	FSSHD_PK_NOAUTH, FSSHD_PK_GRACE,
};

static const struct {
	int status;			/* FSSHD_EXIT_* */
	enum fsshd_pkind kind;
	const char *name;
} fsshd_limits_exits[] = {
	{ FSSHD_EXIT_CRASH, FSSHD_PK_CRASH, "crash" },
	{ FSSHD_EXIT_AUTHFAIL, FSSHD_PK_AUTHFAIL, "authfail" },
	{ FSSHD_EXIT_NOAUTH, FSSHD_PK_NOAUTH, "noauth" },
	{ FSSHD_EXIT_GRACE, FSSHD_PK_GRACE, "grace-exceeded" },
};

int
fsshd_limits_new(const struct sshdconf *conf, struct fsshd_limits **lp)
{
	struct fsshd_limits *l;

	*lp = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return FERR_ALLOC;
	l->conf = conf;
	l->bits4 = conf->penalty_netblock4;
	l->bits6 = conf->penalty_netblock6;
	*lp = l;
	return 0;
}

void
fsshd_limits_free(struct fsshd_limits *l)
{
	if (l == NULL)
		return;
	free(l->pen);
	free(l);
}

/* The network block of an address: family, masked bytes; 0 or -1. */
static int
fsshd_limits_block(const struct fsshd_limits *l,
    const struct sockaddr_storage *ss, int *familyp, uint8_t net[16])
{
	const uint8_t *p;
	size_t len, i;
	int bits;

	memset(net, 0, 16);
	if (ss->ss_family == AF_INET) {
		p = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)ss)->sin_addr;
		len = 4;
		bits = l->bits4;
	} else if (ss->ss_family == AF_INET6) {
		p = (const uint8_t *)&((const struct sockaddr_in6 *)
		    (const void *)ss)->sin6_addr;
		len = 16;
		bits = l->bits6;
	} else
		return -1;
	for (i = 0; i < len; i++) {
		if (bits >= 8)
			net[i] = p[i];
		else if (bits > 0)
			net[i] = p[i] & (uint8_t)(0xff << (8 - bits));
		bits -= 8;
	}
	*familyp = ss->ss_family;
	return 0;
}

/* Drop records that expired. */
static void
fsshd_limits_expire(struct fsshd_limits *l, time_t now)
{
	size_t i = 0;

	while (i < l->npen) {
		if (l->pen[i].expiry > now) {
			i++;
			continue;
		}
		l->pen[i] = l->pen[--l->npen];
	}
}

static struct fsshd_penalty *
fsshd_limits_find(struct fsshd_limits *l, int family, const uint8_t net[16])
{
	size_t i;

	for (i = 0; i < l->npen; i++)
		if (l->pen[i].family == family &&
		    memcmp(l->pen[i].net, net, 16) == 0)
			return &l->pen[i];
	return NULL;
}

static size_t
fsshd_limits_count(const struct fsshd_limits *l, int family)
{
	size_t i, n = 0;

	for (i = 0; i < l->npen; i++)
		n += l->pen[i].family == family;
	return n;
}

/* MaxStartups: 1 to drop a connection arriving with startups pending. */
static int
fsshd_limits_startups_drop(const struct sshdconf *c, unsigned int startups)
{
	unsigned int begin = (unsigned int)c->max_startups_begin;
	unsigned int full = (unsigned int)c->max_startups;
	unsigned int rate = (unsigned int)c->max_startups_rate, p;
	uint32_t rnd;

	if (startups >= full)
		return 1;
	if (startups < begin || full <= begin)
		return 0;
	/* From rate% at begin rising linearly to 100% at full. */
	p = rate + ((100 - rate) * (startups - begin)) / (full - begin);
	if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
		return 1;
	return rnd % 100 < p;
}

int
fsshd_limits_admit(struct fsshd_limits *l, const struct sockaddr_storage *ss,
    const char *addr, unsigned int startups, time_t now)
{
	const struct sshdconf_penalties *pc = &l->conf->penalties;
	struct fsshd_penalty *p;
	uint8_t net[16];
	int family, deny_all;

	if (fsshd_limits_startups_drop(l->conf, startups)) {
		log_info("drop connection from %s: MaxStartups %d:%d:%d "
		    "exceeded with %u unauthenticated", addr,
		    l->conf->max_startups_begin, l->conf->max_startups_rate,
		    l->conf->max_startups, startups);
		return 0;
	}
	if (!pc->enabled || fsshd_limits_block(l, ss, &family, net) != 0)
		return 1;
	fsshd_limits_expire(l, now);
	if ((p = fsshd_limits_find(l, family, net)) != NULL && p->active) {
		log_info("drop connection from %s: penalty for %lld more "
		    "seconds", addr, (long long)(p->expiry - now));
		return 0;
	}
	deny_all = family == AF_INET ? pc->overflow_deny_all :
	    pc->overflow6_deny_all;
	if (deny_all && fsshd_limits_count(l, family) >= (size_t)(family ==
	    AF_INET ? pc->max_sources4 : pc->max_sources6)) {
		log_info("drop connection from %s: penalty table full "
		    "(overflow deny-all)", addr);
		return 0;
	}
	return 1;
}

/* The penalty kind of a per-connection process's wait status. */
static enum fsshd_pkind
fsshd_limits_kind(int wstatus, const char **namep)
{
	size_t i;

	*namep = "crash";
	if (WIFSIGNALED(wstatus))
		return FSSHD_PK_CRASH;
	if (!WIFEXITED(wstatus))
		return FSSHD_PK_NONE;
	for (i = 0; i < sizeof(fsshd_limits_exits) /
	    sizeof(fsshd_limits_exits[0]); i++)
		if (fsshd_limits_exits[i].status == WEXITSTATUS(wstatus)) {
			*namep = fsshd_limits_exits[i].name;
			return fsshd_limits_exits[i].kind;
		}
	return FSSHD_PK_NONE;
}

void
fsshd_limits_ended(struct fsshd_limits *l, const struct sockaddr_storage *ss,
    const char *addr, int wstatus, time_t now)
{
	const struct sshdconf_penalties *pc = &l->conf->penalties;
	const char *exempt = l->conf->penalty_exempt_list, *name;
	struct fsshd_penalty *p, *np;
	enum fsshd_pkind kind;
	uint8_t net[16];
	int family, secs;
	size_t max;

	if (!pc->enabled ||
	    (kind = fsshd_limits_kind(wstatus, &name)) == FSSHD_PK_NONE)
		return;
	if (exempt != NULL && strcmp(exempt, "none") != 0 &&
	    config_match_addr_list(addr, exempt) == 1)
		return;
	if (fsshd_limits_block(l, ss, &family, net) != 0)
		return;
	switch (kind) {
	case FSSHD_PK_CRASH:
		secs = pc->crash;
		break;
	case FSSHD_PK_AUTHFAIL:
		secs = pc->authfail;
		break;
	case FSSHD_PK_NOAUTH:
		secs = pc->noauth;
		break;
	case FSSHD_PK_GRACE:
		secs = pc->grace_exceeded;
		break;
	default:
		return;
	}
	if (secs <= 0)
		return;
	fsshd_limits_expire(l, now);
	if ((p = fsshd_limits_find(l, family, net)) == NULL) {
		max = (size_t)(family == AF_INET ? pc->max_sources4 :
		    pc->max_sources6);
		if (fsshd_limits_count(l, family) >= max)
			return;		/* overflow: admit() decides */
		if (l->npen == l->cap) {
			size_t ncap = l->cap == 0 ? 16 : l->cap * 2;

			if ((np = reallocarray(l->pen, ncap,
			    sizeof(*np))) == NULL)
				return;
			l->pen = np;
			l->cap = ncap;
		}
		p = &l->pen[l->npen++];
		memset(p, 0, sizeof(*p));
		p->family = family;
		memcpy(p->net, net, 16);
		p->expiry = now;
	}
	p->expiry += secs;
	if (p->expiry > now + pc->max)
		p->expiry = now + pc->max;
	if (!p->active && p->expiry - now >= pc->min) {
		p->active = 1;
		log_info("penalty: %s for %s, refused for %lld seconds", name,
		    addr, (long long)(p->expiry - now));
	} else
		log_verbose("penalty: %s for %s (%lld seconds accrued)", name,
		    addr, (long long)(p->expiry - now));
}
