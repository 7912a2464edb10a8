/*
 * ssh-agent client: framing over a unix socket with a deadline per
 * request, identity listing and signing.  See ferry/agent.h.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ferry/agent.h"
#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/log.h"
#include "misc.h"

struct agent {
	int fd;
	int timeout_ms;
};

/* RSA signature algorithms and the agent flag that asks for each. */
static const struct {
	const char *alg;
	uint32_t flag;
} ag_rsa_flags[] = {
	{ "rsa-sha2-256", AGENT_RSA_SHA2_256 },
	{ "rsa-sha2-512", AGENT_RSA_SHA2_512 },
};

static int64_t
ag_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
agent_from_fd(int fd, int timeout_ms, struct agent **agentp)
{
	struct agent *ag;

	*agentp = NULL;
	if (fd < 0 || timeout_ms < 0)
		return FERR_ARGUMENT;
	if (misc_set_nonblock(fd, 1) != 0)
		return FERR_SYSTEM;
	if ((ag = calloc(1, sizeof(*ag))) == NULL)
		return FERR_ALLOC;
	ag->fd = fd;
	ag->timeout_ms = timeout_ms > 0 ? timeout_ms : AGENT_TIMEOUT_DEFAULT;
	*agentp = ag;
	return 0;
}

int
agent_connect(const char *path, int timeout_ms, struct agent **agentp)
{
	struct sockaddr_un sun;
	int fd, r, saved;

	*agentp = NULL;
	if (path == NULL)
		path = getenv("SSH_AUTH_SOCK");
	if (path == NULL || *path == '\0') {
		log_debug("agent: SSH_AUTH_SOCK is not set");
		return FERR_AGENT;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (misc_strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return FERR_SYSTEM;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return FERR_SYSTEM;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		log_debug("agent: connect %s: %s", path, strerror(saved));
		close(fd);
		errno = saved;
		return FERR_SYSTEM;
	}
	if ((r = agent_from_fd(fd, timeout_ms, agentp)) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
	}
	return r;
}

void
agent_close(struct agent *ag)
{
	if (ag == NULL)
		return;
	if (ag->fd != -1)
		close(ag->fd);
	free(ag);
}

/* Wait until fd is ready for events or the deadline passes. */
static int
ag_wait(int fd, short events, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left;
	int n;

	for (;;) {
		if ((left = deadline - ag_now_ms()) <= 0)
			return FERR_TIMEOUT;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n > 0)
			return 0;
		if (n == 0)
			return FERR_TIMEOUT;
		if (errno != EINTR)
			return FERR_SYSTEM;
	}
}

static int
ag_write_all(struct agent *ag, const uint8_t *p, size_t len, int64_t deadline)
{
	ssize_t n;
	int r;

	while (len > 0) {
		if ((n = send(ag->fd, p, len, MSG_NOSIGNAL)) >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EPIPE || errno == ECONNRESET)
			return FERR_CONN_CLOSED;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return FERR_SYSTEM;
		if ((r = ag_wait(ag->fd, POLLOUT, deadline)) != 0)
			return r;
	}
	return 0;
}

static int
ag_read_all(struct agent *ag, uint8_t *p, size_t len, int64_t deadline)
{
	ssize_t n;
	int r;

	while (len > 0) {
		if ((n = recv(ag->fd, p, len, 0)) > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0)
			return FERR_CONN_CLOSED;
		if (errno == ECONNRESET)
			return FERR_CONN_CLOSED;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return FERR_SYSTEM;
		if ((r = ag_wait(ag->fd, POLLIN, deadline)) != 0)
			return r;
	}
	return 0;
}

/*
 * Send the message req (type byte and contents) and read the reply:
 * *replyp gets its contents after the type byte, *typep the type.
 */
static int
ag_request(struct agent *ag, const struct buf *req, uint8_t *typep,
    struct buf **replyp)
{
	struct buf *reply = NULL;
	uint8_t hdr[4], *p;
	uint32_t len;
	int64_t deadline;
	int r;

	*replyp = NULL;
	if (ag == NULL)
		return FERR_ARGUMENT;
	if (ag->fd == -1)
		return FERR_CONN_CLOSED;
	if (buf_len(req) > AGENT_REPLY_MAX)
		return FERR_STRING_TOO_LARGE;
	deadline = ag_now_ms() + ag->timeout_ms;
	len = (uint32_t)buf_len(req);
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
	if ((r = ag_write_all(ag, hdr, sizeof(hdr), deadline)) != 0 ||
	    (r = ag_write_all(ag, buf_ptr(req), buf_len(req), deadline)) != 0 ||
	    (r = ag_read_all(ag, hdr, sizeof(hdr), deadline)) != 0)
		goto out;
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (len == 0) {
		r = FERR_FORMAT;
		goto out;
	}
	if (len > AGENT_REPLY_MAX) {
		r = FERR_STRING_TOO_LARGE;
		goto out;
	}
	if ((reply = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = buf_reserve(reply, len, &p)) != 0 ||
	    (r = ag_read_all(ag, p, len, deadline)) != 0 ||
	    (r = buf_get_u8(reply, typep)) != 0)
		goto out;
	*replyp = reply;
	reply = NULL;
 out:
	buf_free(reply);
	if (r != 0) {
		/* The stream is out of step: no later request may use it. */
		log_debug("agent: request failed: %s", err_str(r));
		close(ag->fd);
		ag->fd = -1;
	}
	return r;
}

/* An answer other than the one wanted: FAILURE or a stray message. */
static int
ag_unexpected(uint8_t type, const char *what)
{
	if (type == AGENT_FAILURE || type == AGENT_EXTENSION_FAILURE)
		log_debug("agent: %s refused", what);
	else
		log_debug("agent: %s: unexpected message %u", what, type);
	return FERR_AGENT;
}

void
agent_identities_free(struct agent_identities *ids)
{
	size_t i;

	if (ids == NULL)
		return;
	for (i = 0; i < ids->n; i++) {
		free(ids->ids[i].blob);
		key_free(ids->ids[i].key);
		free(ids->ids[i].comment);
	}
	free(ids->ids);
	free(ids);
}

int
agent_list(struct agent *ag, struct agent_identities **idsp)
{
	struct agent_identities *ids = NULL;
	struct agent_identity *id;
	struct buf *req = NULL, *reply = NULL;
	uint32_t n, i;
	uint8_t type;
	int r;

	*idsp = NULL;
	if ((req = buf_new()) == NULL)
		return FERR_ALLOC;
	if ((r = buf_put_u8(req, AGENTC_REQUEST_IDENTITIES)) != 0 ||
	    (r = ag_request(ag, req, &type, &reply)) != 0)
		goto out;
	if (type != AGENT_IDENTITIES_ANSWER) {
		r = ag_unexpected(type, "listing identities");
		goto out;
	}
	if ((r = buf_get_u32(reply, &n)) != 0)
		goto out;
	if (n > AGENT_IDENTITIES_MAX) {
		r = FERR_NUMBER_RANGE;
		goto out;
	}
	if ((ids = calloc(1, sizeof(*ids))) == NULL ||
	    (ids->ids = calloc(n > 0 ? n : 1, sizeof(*ids->ids))) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	for (i = 0; i < n; i++) {
		id = &ids->ids[i];
		if ((r = buf_get_string(reply, &id->blob, &id->bloblen)) != 0 ||
		    (r = buf_get_cstring(reply, &id->comment, NULL)) != 0) {
			ids->n = i + 1;
			goto out;
		}
		ids->n = i + 1;
		if ((r = key_from_blob_mem(id->blob, id->bloblen,
		    &id->key)) == FERR_ALLOC)
			goto out;
		if (r != 0)
			log_debug("agent: identity %u (%s) not usable: %s", i,
			    id->comment, err_str(r));
		else if ((r = key_set_comment(id->key, id->comment)) != 0)
			goto out;
	}
	if ((r = buf_expect_end(reply)) != 0)
		goto out;
	*idsp = ids;
	ids = NULL;
	r = 0;
 out:
	agent_identities_free(ids);
	buf_free(req);
	buf_free(reply);
	return r;
}

int
agent_sign(struct agent *ag, const struct key *key, const char *alg,
    const uint8_t *data, size_t len, unsigned int flags, struct buf *sig)
{
	struct buf *req = NULL, *reply = NULL, *blob = NULL;
	const uint8_t *s;
	size_t slen, i;
	uint32_t agflags = 0;
	uint8_t type;
	int r;

	if (ag == NULL || key == NULL || (data == NULL && len > 0) ||
	    sig == NULL)
		return FERR_ARGUMENT;
	if (alg == NULL)
		alg = key_sig_alg_default(key);
	if (!key_sig_alg_allowed(key, alg, flags))
		return key_get_type(key) == KEY_RSA &&
		    strcmp(alg, "ssh-rsa") == 0 ? FERR_NOT_SUPPORTED :
		    FERR_KEY_TYPE_MISMATCH;
	for (i = 0; i < sizeof(ag_rsa_flags) / sizeof(ag_rsa_flags[0]); i++)
		if (key_get_type(key) == KEY_RSA &&
		    strcmp(alg, ag_rsa_flags[i].alg) == 0)
			agflags = ag_rsa_flags[i].flag;
	if ((req = buf_new()) == NULL || (blob = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = key_to_blob(key, blob)) != 0 ||
	    (r = buf_put_u8(req, AGENTC_SIGN_REQUEST)) != 0 ||
	    (r = buf_put_stringb(req, blob)) != 0 ||
	    (r = buf_put_string(req, data, len)) != 0 ||
	    (r = buf_put_u32(req, agflags)) != 0 ||
	    (r = ag_request(ag, req, &type, &reply)) != 0)
		goto out;
	if (type != AGENT_SIGN_RESPONSE) {
		r = ag_unexpected(type, "signing");
		goto out;
	}
	if ((r = buf_get_string_direct(reply, &s, &slen)) != 0 ||
	    (r = buf_expect_end(reply)) != 0)
		goto out;
	/* The agent must have used the algorithm asked for, correctly. */
	if ((r = key_verify(key, s, slen, data, len, alg, flags)) != 0) {
		log_debug("agent: signature rejected: %s", err_str(r));
		goto out;
	}
	r = buf_put(sig, s, slen);
 out:
	buf_free(req);
	buf_free(reply);
	buf_free(blob);
	return r;
}
