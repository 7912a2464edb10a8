/*
 * fsshd internals shared by the program (fsshd.c: options, host key,
 * listener) and one connection's session (fsshd-session.c).
 */
#ifndef FERRY_FSSHD_H
#define FERRY_FSSHD_H

#include <sys/types.h>

struct key;

/* What a session needs to know; built once by main, read-only after. */
struct fsshd_opts {
	const char *user;		/* the one account served */
	uid_t uid;
	const char *home;
	const char *shell;
	const char *authorized_keys;	/* path of the user's file */
	struct key *hostkey;
	unsigned int grace;		/* seconds to authenticate; 0: none */
};

/*
 * Serve one connection arriving on in_fd and leaving on out_fd (the same
 * socket, or stdin/stdout with -i) until it ends.  peer names the client
 * in log lines ("127.0.0.1 port 40000"), addr is its numeric address
 * (for from= in authorized_keys).  Returns 0 when the connection ended
 * normally.
 */
int fsshd_session_run(const struct fsshd_opts *o, int in_fd, int out_fd,
    const char *peer, const char *addr);

#endif /* FERRY_FSSHD_H */
