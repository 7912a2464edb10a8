/*
 * fsshd's privilege separation: the monitor of one connection.
 *
 * The monitor is the privileged half.  It starts the pre-auth process
 * (which speaks the protocol inside the sandbox of fsshd-sandbox.c and
 * holds no private host key), loads the host keys only afterwards, and
 * answers that process's requests over a socketpair.  Every request type
 * is a row of fsshd_mon_table with the states it is allowed in; anything
 * else ends the connection with a log line.  The monitor decides
 * authentication itself: the pre-auth process may only claim success
 * for methods the monitor approved (a password it checked, a publickey
 * signature it verified over the session identifier it signed).  Then
 * it starts the post-auth process as the user with the transport state
 * the pre-auth process handed over, and keeps serving host key
 * signatures for its rekeys until it ends.
 *
 * Messages on the socketpair: uint32 length, byte type, payload (the
 * length counts type and payload).  Replies carry the request's type.
 * MON_LOG is one-way: the sandboxed process cannot reach syslog or a
 * log file, so its log lines travel here.
 *
 * MON_USER comes with the first USERAUTH_REQUEST: the monitor answers
 * with the settings of that user (Match applied, as sshd's monitor
 * answers its PWNAM request), which the pre-auth process then offers.
 * It is allowed once, naming the user of the requests before it if
 * there were any (a signed publickey request reaches the monitor before
 * the pre-auth process's auth engine asks for the settings), and fixes
 * the user name: a request for another user afterwards ends the
 * connection (the pre-auth process disconnects a client that changes
 * it).  A name without an account gets what Match gives the name alone,
 * so the answer does not tell whether the account exists.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ferry/auth.h"
#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/key-cert.h"
#include "ferry/log.h"
#include "ferry/sshdconf.h"
#include "fsshd.h"
#include "fsshd-hostcert.h"
#include "fsshd-auth.h"
#include "misc.h"
#include "prog.h"

/* A message is at most this long (a transport state fits easily). */
#define FSSHD_MON_MAX		(1024 * 1024)

/* States; a request names the states it may arrive in. */
#define MON_ST_PREAUTH	0x01
#define MON_ST_POSTAUTH	0x02

/* Methods the monitor approved for the user being authenticated. */
#define MON_M_PUBKEY	0x01
#define MON_M_PASSWORD	0x02
#define MON_M_KBDINT	0x04
/* The most methods one login may have approved (lists interleave). */
#define MON_SEQ_MAX	32

static const struct {
	const char *name;
	unsigned int bit;
} fsshd_mon_methods[] = {
	{ "publickey", MON_M_PUBKEY }, { "password", MON_M_PASSWORD },
	{ "keyboard-interactive", MON_M_KBDINT },
};
#define FSSHD_MON_NMETHODS \
	(sizeof(fsshd_mon_methods) / sizeof(fsshd_mon_methods[0]))

struct fsshd_mon {
	struct fsshd_opts *o;
	struct fsshd_authstate as;
	unsigned int state;
	int fd;				/* to the current process */
	struct key *keys[FSSHD_MAX_HOSTKEYS];	/* private */
	size_t nkeys;
	struct buf *session_id;		/* H of the first key exchange */
	char *auser;			/* user of the approved methods */
	unsigned int approved;		/* MON_M_* */
	/*
	 * The methods approved so far, in order: AuthenticationMethods
	 * is enforced here, not only in the pre-auth process.
	 */
	unsigned int seq[MON_SEQ_MAX];
	size_t nseq;
	struct key *signer;		/* key of the verified signature */
	struct key_cert *signer_cert;	/* its certificate, if one */
	struct fsshd_kbd *kbd;		/* keyboard-interactive in progress */
	int pam_session;		/* a PAM session is open */
	int attempted;			/* any authentication request */
	int user_fixed;			/* MON_USER named auser for good */
	int done;			/* MON_AUTHDONE accepted */
	struct buf *tstate;		/* the transport state handed over */
};

typedef int fsshd_mon_fn(struct fsshd_mon *m, struct buf *req,
    struct buf *reply);

static fsshd_mon_fn fsshd_mon_log, fsshd_mon_pubkey,
    fsshd_mon_signed, fsshd_mon_password, fsshd_mon_sign,
    fsshd_mon_authdone, fsshd_mon_cert, fsshd_mon_kbd_start,
    fsshd_mon_kbd_step, fsshd_mon_user;

static const struct {
	enum fsshd_mon_type type;
	const char *name;
	unsigned int states;
	int reply;			/* answered (else one-way) */
	fsshd_mon_fn *fn;
} fsshd_mon_table[] = {
	{ MON_LOG, "log", MON_ST_PREAUTH | MON_ST_POSTAUTH, 0,
	    fsshd_mon_log },
	{ MON_PUBKEY, "pubkey", MON_ST_PREAUTH, 1, fsshd_mon_pubkey },
	{ MON_SIGNED, "signed", MON_ST_PREAUTH, 1, fsshd_mon_signed },
	{ MON_PASSWORD, "password", MON_ST_PREAUTH, 1, fsshd_mon_password },
	{ MON_SIGN, "sign", MON_ST_PREAUTH | MON_ST_POSTAUTH, 1,
	    fsshd_mon_sign },
	{ MON_AUTHDONE, "authdone", MON_ST_PREAUTH, 0, fsshd_mon_authdone },
	{ MON_CERT, "cert", MON_ST_PREAUTH, 1, fsshd_mon_cert },
	{ MON_KBD_START, "kbd-start", MON_ST_PREAUTH, 1, fsshd_mon_kbd_start },
	{ MON_KBD_STEP, "kbd-step", MON_ST_PREAUTH, 1, fsshd_mon_kbd_step },
	{ MON_USER, "user", MON_ST_PREAUTH, 1, fsshd_mon_user },
};

/* ---- framing, used by both sides ---- */

/* Read exactly len bytes; FERR_CONN_CLOSED at a clean end. */
static int
fsshd_mon_read_all(int fd, uint8_t *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = read(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return FERR_SYSTEM;
		}
		if (n == 0)
			return FERR_CONN_CLOSED;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
fsshd_mon_send(int fd, uint8_t type, const struct buf *payload)
{
	struct buf *b;
	size_t plen = payload != NULL ? buf_len(payload) : 0;
	int r;

	if (plen > FSSHD_MON_MAX - 1)
		return FERR_STRING_TOO_LARGE;
	if ((b = buf_new()) == NULL)
		return FERR_ALLOC;
	buf_set_secret(b);
	if ((r = buf_put_u32(b, (uint32_t)plen + 1)) == 0 &&
	    (r = buf_put_u8(b, type)) == 0 &&
	    (payload == NULL || (r = buf_putb(b, payload)) == 0))
		r = misc_write_all(fd, buf_ptr(b), buf_len(b));
	buf_free(b);
	return r;
}

/* Receive one message: its type, and its payload appended to payload. */
static int
fsshd_mon_recv(int fd, uint8_t *typep, struct buf *payload)
{
	uint8_t hdr[5], *p;
	uint32_t len;
	int r;

	if ((r = fsshd_mon_read_all(fd, hdr, sizeof(hdr))) != 0)
		return r;
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (len < 1 || len > FSSHD_MON_MAX)
		return FERR_FORMAT;
	*typep = hdr[4];
	if ((r = buf_reserve(payload, len - 1, &p)) != 0)
		return r;
	return fsshd_mon_read_all(fd, p, len - 1);
}

/* A request and its reply (of the same type). */
static int
fsshd_mon_request(int fd, uint8_t type, const struct buf *req,
    struct buf *reply)
{
	uint8_t rtype;
	int r;

	if ((r = fsshd_mon_send(fd, type, req)) != 0 ||
	    (r = fsshd_mon_recv(fd, &rtype, reply)) != 0)
		return r;
	return rtype == type ? 0 : FERR_PROTOCOL;
}

/* A request answered by one byte: 1 allow, 0 refuse, or an error. */
static int
fsshd_mon_ask(int fd, uint8_t type, const struct buf *req)
{
	struct buf *reply;
	uint8_t ok = 0;
	int r;

	if ((reply = buf_new()) == NULL)
		return FERR_ALLOC;
	if ((r = fsshd_mon_request(fd, type, req, reply)) == 0 &&
	    (r = buf_get_u8(reply, &ok)) == 0)
		r = buf_expect_end(reply);
	buf_free(reply);
	return r != 0 ? r : ok != 0;
}

/* ---- the asking side (pre-auth and post-auth processes) ---- */

static int fsshd_mon_log_fd = -1;

static void
fsshd_mon_log_handler(enum log_level level, const char *msg, void *ctx)
{
	struct buf *b;

	(void)ctx;
	if ((b = buf_new()) == NULL)
		return;
	if (buf_put_u32(b, (uint32_t)level) == 0 &&
	    buf_put_cstring(b, msg) == 0 &&
	    fsshd_mon_send(fsshd_mon_log_fd, MON_LOG, b) != 0) {
		/* The monitor is gone: nothing left to tell. */
	}
	buf_free(b);
}

void
fsshd_monitor_log_to(int mon_fd)
{
	fsshd_mon_log_fd = mon_fd;
	log_set_handler(fsshd_mon_log_handler, NULL);
}

int
fsshd_monitor_ask_pubkey(int mon_fd, const char *user, const struct key *key)
{
	struct buf *b, *blob = NULL;
	int r;

	if ((b = buf_new()) == NULL || (blob = buf_new()) == NULL) {
		buf_free(b);
		return FERR_ALLOC;
	}
	if ((r = buf_put_cstring(b, user)) == 0 &&
	    (r = key_to_blob(key, blob)) == 0 &&
	    (r = buf_put_stringb(b, blob)) == 0)
		r = fsshd_mon_ask(mon_fd, MON_PUBKEY, b);
	buf_free(blob);
	buf_free(b);
	return r;
}

int
fsshd_monitor_ask_signed(int mon_fd, const struct buf *request)
{
	struct buf *b;
	int r;

	if ((b = buf_new()) == NULL)
		return FERR_ALLOC;
	if ((r = buf_put_stringb(b, request)) == 0)
		r = fsshd_mon_ask(mon_fd, MON_SIGNED, b);
	buf_free(b);
	return r;
}

int
fsshd_monitor_ask_password(int mon_fd, const char *user, const char *password)
{
	struct buf *b;
	int r;

	if ((b = buf_new()) == NULL)
		return FERR_ALLOC;
	buf_set_secret(b);
	if ((r = buf_put_cstring(b, user)) == 0 &&
	    (r = buf_put_cstring(b, password)) == 0)
		r = fsshd_mon_ask(mon_fd, MON_PASSWORD, b);
	buf_free(b);
	return r;
}

int
fsshd_monitor_ask_cert(int mon_fd, const char *user,
    const struct key_cert *cert)
{
	struct buf *b;
	int r;

	if ((b = buf_new()) == NULL)
		return FERR_ALLOC;
	if ((r = buf_put_cstring(b, user)) == 0 &&
	    (r = buf_put_string(b, cert->blob, cert->bloblen)) == 0)
		r = fsshd_mon_ask(mon_fd, MON_CERT, b);
	buf_free(b);
	return r;
}

int
fsshd_monitor_ask_user(int mon_fd, const char *user,
    struct auth_server_user *u, char **methodsp, char **algsp)
{
	struct buf *b, *reply = NULL;
	uint32_t max;
	uint8_t enabled;
	int r;

	memset(u, 0, sizeof(*u));
	*methodsp = *algsp = NULL;
	if ((b = buf_new()) == NULL || (reply = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = buf_put_cstring(b, user)) != 0 ||
	    (r = fsshd_mon_request(mon_fd, MON_USER, b, reply)) != 0 ||
	    (r = buf_get_u8(reply, &enabled)) != 0 ||
	    (r = buf_get_u32(reply, &max)) != 0 ||
	    (r = buf_get_cstring(reply, methodsp, NULL)) != 0 ||
	    (r = buf_get_cstring(reply, algsp, NULL)) != 0 ||
	    (r = buf_expect_end(reply)) != 0)
		goto out;
	if ((enabled & ~(AUTH_SERVER_PUBLICKEY | AUTH_SERVER_PASSWORD |
	    AUTH_SERVER_KBDINT)) != 0) {
		r = FERR_FORMAT;
		goto out;
	}
	u->enabled = enabled;
	u->max_tries = max;
	u->methods = strcmp(*methodsp, "any") == 0 ? NULL : *methodsp;
	u->pubkey_algs = **algsp == '\0' ? NULL : *algsp;
 out:
	if (r != 0) {
		free(*methodsp);
		free(*algsp);
		*methodsp = *algsp = NULL;
		memset(u, 0, sizeof(*u));
	}
	buf_free(reply);
	buf_free(b);
	return r;
}

/* The monitor's answer to a kbd request, put into conv. */
static int
fsshd_mon_kbd_answer(struct buf *reply, struct auth_kbdint *conv)
{
	char *name = NULL, *instr = NULL, *prompt = NULL;
	uint32_t i, n;
	uint8_t status;
	int echo, r;

	if ((r = buf_get_u8(reply, &status)) != 0)
		return r;
	if (status != AUTH_KBDINT_PROMPT)
		return (r = buf_expect_end(reply)) != 0 ? r :
		    status == AUTH_KBDINT_SUCCESS ? AUTH_KBDINT_SUCCESS :
		    AUTH_KBDINT_FAILURE;
	if ((r = buf_get_cstring(reply, &name, NULL)) != 0 ||
	    (r = buf_get_cstring(reply, &instr, NULL)) != 0 ||
	    (r = buf_get_u32(reply, &n)) != 0)
		goto out;
	if (n > FSSHD_KBD_PROMPTS_MAX) {
		r = FERR_FORMAT;
		goto out;
	}
	if ((r = auth_kbdint_set_text(conv, name, instr)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((r = buf_get_cstring(reply, &prompt, NULL)) != 0 ||
		    (r = buf_get_bool(reply, &echo)) != 0 ||
		    (r = auth_kbdint_add_prompt(conv, prompt, echo)) != 0)
			goto out;
		free(prompt);
		prompt = NULL;
	}
	if ((r = buf_expect_end(reply)) == 0)
		r = AUTH_KBDINT_PROMPT;
 out:
	free(name);
	free(instr);
	free(prompt);
	return r;
}

int
fsshd_monitor_kbdint(int mon_fd, struct auth_kbdint *conv, const char *user)
{
	struct buf *b, *reply = NULL;
	size_t i, n = auth_kbdint_nresponses(conv);
	uint8_t type;
	int r;

	if ((b = buf_new()) == NULL || (reply = buf_new()) == NULL) {
		buf_free(b);
		return AUTH_KBDINT_FAILURE;
	}
	buf_set_secret(b);
	if (auth_kbdint_round(conv) == 0) {
		type = MON_KBD_START;
		r = buf_put_cstring(b, user);
	} else {
		type = MON_KBD_STEP;
		r = buf_put_u32(b, (uint32_t)n);
		for (i = 0; i < n && r == 0; i++)
			r = buf_put_cstring(b, auth_kbdint_response(conv, i));
	}
	if (r == 0 && (r = fsshd_mon_request(mon_fd, type, b, reply)) == 0)
		r = fsshd_mon_kbd_answer(reply, conv);
	buf_free(b);
	buf_free(reply);
	return r < 0 ? AUTH_KBDINT_FAILURE : r;
}

int
fsshd_monitor_sign(const struct key *hostkey, const char *sigalg,
    const uint8_t *data, size_t len, struct buf *sig, void *ctx)
{
	int fd = *(const int *)ctx;
	struct buf *b, *blob = NULL, *reply = NULL;
	const uint8_t *s;
	size_t slen;
	int r;

	if ((b = buf_new()) == NULL || (blob = buf_new()) == NULL ||
	    (reply = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = key_to_blob(hostkey, blob)) != 0 ||
	    (r = buf_put_stringb(b, blob)) != 0 ||
	    (r = buf_put_cstring(b, sigalg)) != 0 ||
	    (r = buf_put_string(b, data, len)) != 0 ||
	    (r = fsshd_mon_request(fd, MON_SIGN, b, reply)) != 0 ||
	    (r = buf_get_string_direct(reply, &s, &slen)) != 0 ||
	    (r = buf_expect_end(reply)) != 0)
		goto out;
	if (slen == 0) {
		r = FERR_SIGNATURE_INVALID;
		goto out;
	}
	r = buf_put(sig, s, slen);
 out:
	buf_free(reply);
	buf_free(blob);
	buf_free(b);
	return r;
}

int
fsshd_monitor_get_hostkeys(int mon_fd, struct key **keys, size_t *np)
{
	struct buf *b;
	const uint8_t *p;
	size_t len;
	uint32_t n, i;
	uint8_t type;
	int r;

	*np = 0;
	if ((b = buf_new()) == NULL)
		return FERR_ALLOC;
	if ((r = fsshd_mon_recv(mon_fd, &type, b)) != 0)
		goto out;
	if (type != MON_HOSTKEYS || (r = buf_get_u32(b, &n)) != 0 ||
	    n > FSSHD_MAX_HOSTKEYS) {
		r = r != 0 ? r : FERR_PROTOCOL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((r = buf_get_string_direct(b, &p, &len)) != 0 ||
		    (r = key_from_blob_mem(p, len, &keys[*np])) != 0)
			goto out;
		(*np)++;
	}
	r = buf_expect_end(b);
 out:
	buf_free(b);
	return r;
}

int
fsshd_monitor_auth_done(int mon_fd, const char *user, const char *methods,
    const struct buf *state)
{
	struct buf *b;
	int r;

	if ((b = buf_new()) == NULL)
		return FERR_ALLOC;
	buf_set_secret(b);
	if ((r = buf_set_max_size(b, FSSHD_MON_MAX)) == 0 &&
	    (r = buf_put_cstring(b, user)) == 0 &&
	    (r = buf_put_cstring(b, methods)) == 0 &&
	    (r = buf_put_stringb(b, state)) == 0)
		r = fsshd_mon_send(mon_fd, MON_AUTHDONE, b);
	buf_free(b);
	return r;
}

/* ---- the monitor's handlers ---- */

/*
 * The MON_M_* bit of the method named by the n bytes at p, a
 * ":submethod" ignored (each method has one device here); 0 if unknown.
 */
static unsigned int
fsshd_mon_method_bit(const char *p, size_t n)
{
	const char *colon;
	size_t i;

	if ((colon = memchr(p, ':', n)) != NULL)
		n = (size_t)(colon - p);
	for (i = 0; i < FSSHD_MON_NMETHODS; i++)
		if (strlen(fsshd_mon_methods[i].name) == n &&
		    strncmp(fsshd_mon_methods[i].name, p, n) == 0)
			return fsshd_mon_methods[i].bit;
	return 0;
}

static const char *
fsshd_mon_method_name(unsigned int bit)
{
	size_t i;

	for (i = 0; i < FSSHD_MON_NMETHODS; i++)
		if (fsshd_mon_methods[i].bit == bit)
			return fsshd_mon_methods[i].name;
	return "unknown";
}

/*
 * Where the methods approved so far (m->seq) leave the comma-separated
 * chain: each approval advances it when it is the chain's next method
 * (as sshd and the pre-auth process count them: a list progresses in
 * its own order, whatever other lists take in between).  1 with *nextp
 * the method the chain wants next (0 when it is complete), or 0 for a
 * chain naming a method unknown here (it never completes).
 */
static int
fsshd_mon_chain_next(const struct fsshd_mon *m, const char *chain,
    unsigned int *nextp)
{
	const char *p = chain, *e;
	unsigned int want;
	size_t i = 0, n;

	for (;;) {
		*nextp = 0;
		if (*p == '\0')
			return 1;
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if ((want = fsshd_mon_method_bit(p, n)) == 0)
			return 0;
		while (i < m->nseq && m->seq[i] != want)
			i++;
		if (i == m->nseq) {
			*nextp = want;
			return 1;
		}
		i++;
		p += n;
		if (*p == ',')
			p++;
	}
}

/*
 * The AuthenticationMethods lists in effect for the user (Match
 * applied), or NULL for "any" (and in the embedded default).
 */
static const struct sshdconf_list *
fsshd_mon_lists(const struct fsshd_mon *m)
{
	const struct sshdconf *c = m->as.eff != NULL ? m->as.eff : m->o->conf;

	if (c == NULL || c->authentication_methods.n == 0 ||
	    strcmp(c->authentication_methods.v[0], "any") == 0)
		return NULL;
	return &c->authentication_methods;
}

/*
 * Whether method (MON_M_*) may succeed now: with "any" only as the
 * first, else as the next method of some list (its earlier methods
 * approved in its order).
 */
static int
fsshd_mon_method_next(const struct fsshd_mon *m, unsigned int method)
{
	const struct sshdconf_list *l;
	unsigned int next;
	size_t i;

	if (m->nseq >= MON_SEQ_MAX)
		return 0;
	if ((l = fsshd_mon_lists(m)) == NULL)
		return m->nseq == 0;
	for (i = 0; i < l->n; i++)
		if (fsshd_mon_chain_next(m, l->v[i], &next) && next == method)
			return 1;
	return 0;
}

/* Whether the approved methods complete one list (or "any"). */
static int
fsshd_mon_methods_complete(const struct fsshd_mon *m)
{
	const struct sshdconf_list *l;
	unsigned int next;
	size_t i;

	if ((l = fsshd_mon_lists(m)) == NULL)
		return m->nseq == 1;
	for (i = 0; i < l->n; i++)
		if (fsshd_mon_chain_next(m, l->v[i], &next) && next == 0)
			return 1;
	return 0;
}

/*
 * A method is about to be approved for m->auser: 1 when the lists allow
 * it now, else 0 (logged: the pre-auth process skipped ahead).
 */
static int
fsshd_mon_method_allowed(const struct fsshd_mon *m, unsigned int method)
{
	if (fsshd_mon_method_next(m, method))
		return 1;
	log_error("monitor: %s for %s from %s is not next in "
	    "AuthenticationMethods (%zu method%s done)",
	    fsshd_mon_method_name(method), m->auser != NULL ? m->auser : "?",
	    m->as.peer, m->nseq, m->nseq == 1 ? "" : "s");
	return 0;
}

/* Record an approved method (checked with fsshd_mon_method_allowed). */
static void
fsshd_mon_method_approve(struct fsshd_mon *m, unsigned int method)
{
	m->approved |= method;
	if (m->nseq < MON_SEQ_MAX)
		m->seq[m->nseq++] = method;
}

/*
 * Whether the methods the pre-auth process claims are exactly those the
 * monitor approved, in the same order, and complete a list.
 */
static int
fsshd_mon_methods_ok(const struct fsshd_mon *m, const char *methods)
{
	const char *p = methods, *e;
	size_t i, n;

	for (i = 0; i < m->nseq; i++) {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0 || memchr(p, ':', n) != NULL ||
		    fsshd_mon_method_bit(p, n) != m->seq[i])
			return 0;
		p += n;
		if (*p == ',' && i + 1 < m->nseq)
			p++;
	}
	return m->nseq > 0 && *p == '\0' && fsshd_mon_methods_complete(m);
}

static int
fsshd_mon_log(struct fsshd_mon *m, struct buf *req, struct buf *reply)
{
	char *text = NULL;
	uint32_t level;
	int r;

	(void)reply;
	if ((r = buf_get_u32(req, &level)) != 0 ||
	    (r = buf_get_cstring(req, &text, NULL)) != 0 ||
	    (r = buf_expect_end(req)) != 0)
		goto out;
	if (level > LOGL_DEBUG3 || level < LOGL_FATAL)
		level = LOGL_INFO;
	log_msg((enum log_level)level, "%s%s", text,
	    m->state == MON_ST_PREAUTH ? " [preauth]" : "");
 out:
	free(text);
	return r;
}

/*
 * A new user name starts over: methods approved for one user never
 * count for another.  Once MON_USER fixed the name, another one is a
 * protocol violation (FERR_PERMISSION, logged).
 */
static int
fsshd_mon_set_user(struct fsshd_mon *m, const char *user)
{
	if (m->auser != NULL && strcmp(m->auser, user) == 0)
		return 0;
	if (m->user_fixed) {
		log_error("monitor: request for %.100s after %.100s from %s: "
		    "change of user name", user, m->auser, m->as.peer);
		return FERR_PERMISSION;
	}
	free(m->auser);
	if ((m->auser = strdup(user)) == NULL)
		return FERR_ALLOC;
	m->approved = 0;
	m->nseq = 0;
	key_free(m->signer);
	m->signer = NULL;
	key_cert_free(m->signer_cert);
	m->signer_cert = NULL;
	fsshd_kbd_free(m->kbd);
	m->kbd = NULL;
	return 0;
}

/*
 * A query about a key or certificate for a user: "string user, string
 * blob" and nothing more; the attempt counts and names the user.
 */
static int
fsshd_mon_query(struct fsshd_mon *m, struct buf *req, char **userp,
    const uint8_t **pp, size_t *lenp)
{
	int r;

	if ((r = buf_get_cstring(req, userp, NULL)) != 0 ||
	    (r = buf_get_string_direct(req, pp, lenp)) != 0 ||
	    (r = buf_expect_end(req)) != 0)
		return r;
	m->attempted = 1;
	return fsshd_mon_set_user(m, *userp);
}

static int
fsshd_mon_pubkey(struct fsshd_mon *m, struct buf *req, struct buf *reply)
{
	struct key *key = NULL;
	char *user = NULL;
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = fsshd_mon_query(m, req, &user, &p, &len)) != 0)
		goto out;
	if (key_from_blob_mem(p, len, &key) != 0) {
		r = buf_put_u8(reply, 0);
		goto out;
	}
	r = buf_put_u8(reply, fsshd_session_pubkey_ok(&m->as, user, key) == 1);
 out:
	key_free(key);
	free(user);
	return r;
}

/*
 * A signed publickey attempt (RFC 4252 7): the monitor checks that the
 * key is authorized and verifies the signature over the data it builds
 * itself from the session identifier it signed.
 */
static int
fsshd_mon_signed(struct fsshd_mon *m, struct buf *req, struct buf *reply)
{
	struct buf *msg = NULL, *data = NULL;
	struct key *key = NULL;
	struct key_cert *cert = NULL;
	char *user = NULL, *service = NULL, *method = NULL, *alg = NULL;
	char *vrfalg = NULL;
	const uint8_t *blob, *sig;
	size_t bloblen, siglen;
	int hassig, ok = 0, r;

	if ((msg = buf_new()) == NULL || (data = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = buf_get_stringb(req, msg)) != 0 ||
	    (r = buf_expect_end(req)) != 0 ||
	    (r = buf_get_cstring(msg, &user, NULL)) != 0 ||
	    (r = buf_get_cstring(msg, &service, NULL)) != 0 ||
	    (r = buf_get_cstring(msg, &method, NULL)) != 0 ||
	    (r = buf_get_bool(msg, &hassig)) != 0 ||
	    (r = buf_get_cstring(msg, &alg, NULL)) != 0 ||
	    (r = buf_get_string_direct(msg, &blob, &bloblen)) != 0 ||
	    (r = buf_get_string_direct(msg, &sig, &siglen)) != 0 ||
	    (r = buf_expect_end(msg)) != 0)
		goto out;
	m->attempted = 1;
	if ((r = fsshd_mon_set_user(m, user)) != 0)
		goto out;
	log_debug("monitor: signed %s attempt for %s (session id %s)",
	    method, user, m->session_id != NULL ? "known" : "unknown");
	if (strcmp(method, "publickey") != 0 || !hassig ||
	    m->session_id == NULL)
		goto answer;
	if (key_cert_is_type_name(alg) ||
	    strstr(alg, "-cert-v01@openssh.com") != NULL) {
		/* A certificate: its CA signature is checked in parsing. */
		if (key_cert_from_blob(blob, bloblen, &cert) != 0 ||
		    key_demote(cert->key, &key) != 0 ||
		    fsshd_session_cert_ok(&m->as, user, cert) != 1 ||
		    (vrfalg = strndup(alg, strlen(alg) -
		    strlen("-cert-v01@openssh.com"))) == NULL)
			goto answer;
	} else if (key_from_blob_mem(blob, bloblen, &key) != 0 ||
	    fsshd_session_pubkey_ok(&m->as, user, key) != 1)
		goto answer;
	/* Decided under the user's settings (Match applied). */
	if (!fsshd_mon_method_allowed(m, MON_M_PUBKEY))
		goto answer;
	if ((r = buf_put_stringb(data, m->session_id)) != 0 ||
	    (r = buf_put_u8(data, 50)) != 0 ||
	    (r = buf_put_cstring(data, user)) != 0 ||
	    (r = buf_put_cstring(data, service)) != 0 ||
	    (r = buf_put_cstring(data, "publickey")) != 0 ||
	    (r = buf_put_bool(data, 1)) != 0 ||
	    (r = buf_put_cstring(data, alg)) != 0 ||
	    (r = buf_put_string(data, blob, bloblen)) != 0)
		goto out;
	if ((r = key_verify(key, sig, siglen, buf_ptr(data), buf_len(data),
	    vrfalg != NULL ? vrfalg : alg, 0)) != 0)
		log_debug("monitor: signature of %s by %s: %s", user,
		    alg, err_str(r));
	else {
		ok = 1;
		fsshd_mon_method_approve(m, MON_M_PUBKEY);
		key_free(m->signer);
		m->signer = key;
		key = NULL;
		key_cert_free(m->signer_cert);
		m->signer_cert = cert;
		cert = NULL;
	}
 answer:
	r = buf_put_u8(reply, ok);
 out:
	key_cert_free(cert);
	free(vrfalg);
	key_free(key);
	free(user);
	free(service);
	free(method);
	free(alg);
	buf_free(msg);
	buf_free(data);
	return r;
}

static int
fsshd_mon_password(struct fsshd_mon *m, struct buf *req, struct buf *reply)
{
	char *user = NULL, *password = NULL;
	size_t plen = 0;
	int ok = 0, r;

	if ((r = buf_get_cstring(req, &user, NULL)) != 0 ||
	    (r = buf_get_cstring(req, &password, &plen)) != 0 ||
	    (r = buf_expect_end(req)) != 0)
		goto out;
	m->attempted = 1;
	if ((r = fsshd_mon_set_user(m, user)) != 0)
		goto out;
	/*
	 * Only configuration mode offers passwords, by the user's
	 * PasswordAuthentication (Match applied: fsshd_session_password_ok).
	 */
	if (m->o->conf != NULL &&
	    fsshd_session_password_ok(&m->as, user, password) == 1 &&
	    fsshd_mon_method_allowed(m, MON_M_PASSWORD)) {
		ok = 1;
		fsshd_mon_method_approve(m, MON_M_PASSWORD);
	}
	r = buf_put_u8(reply, ok);
 out:
	if (password != NULL)
		misc_freezero(password, plen);
	free(user);
	return r;
}

static int
fsshd_mon_cert(struct fsshd_mon *m, struct buf *req, struct buf *reply)
{
	struct key_cert *cert = NULL;
	char *user = NULL;
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = fsshd_mon_query(m, req, &user, &p, &len)) != 0)
		goto out;
	if (key_cert_from_blob(p, len, &cert) != 0) {
		r = buf_put_u8(reply, 0);
		goto out;
	}
	r = buf_put_u8(reply, fsshd_session_cert_ok(&m->as, user, cert) == 1);
 out:
	key_cert_free(cert);
	free(user);
	return r;
}

/*
 * Step the monitor's keyboard-interactive conversation with the nresp
 * responses and put the answer (see MON_KBD_STEP) in reply.  The
 * conversation ends on success (the method approved) or failure.
 */
static int
fsshd_mon_kbd_reply(struct fsshd_mon *m, const char *const *resp,
    size_t nresp, struct buf *reply)
{
	struct fsshd_kbd_round out;
	char why[256];
	size_t i;
	int r, st;

	memset(&out, 0, sizeof(out));
	why[0] = '\0';
	if (m->kbd == NULL)
		return buf_put_u8(reply, AUTH_KBDINT_FAILURE);
	st = fsshd_kbd_step(m->kbd, resp, nresp, &out, why, sizeof(why));
	if (st == FSSHD_KBD_PROMPT) {
		if ((r = buf_put_u8(reply, AUTH_KBDINT_PROMPT)) != 0 ||
		    (r = buf_put_cstring(reply, out.name != NULL ?
		    out.name : "")) != 0 ||
		    (r = buf_put_cstring(reply, out.instruction != NULL ?
		    out.instruction : "")) != 0 ||
		    (r = buf_put_u32(reply, (uint32_t)out.nprompts)) != 0)
			goto out;
		for (i = 0; i < out.nprompts; i++)
			if ((r = buf_put_cstring(reply, out.prompts[i])) != 0 ||
			    (r = buf_put_bool(reply, out.echo[i])) != 0)
				goto out;
		goto out;
	}
	fsshd_kbd_free(m->kbd);
	m->kbd = NULL;
	if (st == FSSHD_KBD_OK && fsshd_mon_method_allowed(m, MON_M_KBDINT)) {
		fsshd_mon_method_approve(m, MON_M_KBDINT);
		r = buf_put_u8(reply, AUTH_KBDINT_SUCCESS);
		goto out;
	}
	if (st < 0)
		log_info("keyboard-interactive for %s from %s: %s", m->auser,
		    m->as.addr, why[0] != '\0' ? why : err_str(st));
	else if (st != FSSHD_KBD_OK)
		log_info("Failed keyboard-interactive for %s from %s: %s",
		    m->auser, m->as.addr, why);
	r = buf_put_u8(reply, AUTH_KBDINT_FAILURE);
 out:
	fsshd_kbd_round_clear(&out);
	return r;
}

static int
fsshd_mon_kbd_start(struct fsshd_mon *m, struct buf *req, struct buf *reply)
{
	char *user = NULL;
	int r;

	if ((r = buf_get_cstring(req, &user, NULL)) != 0 ||
	    (r = buf_expect_end(req)) != 0)
		goto out;
	m->attempted = 1;
	if ((r = fsshd_mon_set_user(m, user)) != 0)
		goto out;
	/* A new attempt: one left over ends here. */
	fsshd_kbd_free(m->kbd);
	m->kbd = NULL;
	authkeys_decision_clear(&m->as.keyopts);
	if (m->o->conf == NULL || fsshd_session_user_ok(&m->as, user) != 1 ||
	    !m->as.eff->kbd_interactive_authentication ||
	    !fsshd_mon_method_allowed(m, MON_M_KBDINT)) {
		r = buf_put_u8(reply, AUTH_KBDINT_FAILURE);
		goto out;
	}
	if ((r = fsshd_kbd_start(m->as.eff, &m->as.acct, m->as.addr,
	    &m->kbd)) != 0) {
		log_error("keyboard-interactive for %s: %s", user, err_str(r));
		r = buf_put_u8(reply, AUTH_KBDINT_FAILURE);
		goto out;
	}
	r = fsshd_mon_kbd_reply(m, NULL, 0, reply);
 out:
	free(user);
	return r;
}

static int
fsshd_mon_kbd_step(struct fsshd_mon *m, struct buf *req, struct buf *reply)
{
	char *resp[FSSHD_KBD_PROMPTS_MAX];
	size_t i, lens[FSSHD_KBD_PROMPTS_MAX];
	uint32_t n = 0, got = 0;
	int r;

	if ((r = buf_get_u32(req, &n)) != 0)
		return r;
	if (n > FSSHD_KBD_PROMPTS_MAX)
		return FERR_FORMAT;
	for (got = 0; got < n; got++)
		if ((r = buf_get_cstring(req, &resp[got], &lens[got])) != 0)
			goto out;
	if ((r = buf_expect_end(req)) != 0)
		goto out;
	/* Only within a conversation this monitor started. */
	r = fsshd_mon_kbd_reply(m, (const char *const *)resp, n, reply);
 out:
	for (i = 0; i < got; i++)
		misc_freezero(resp[i], lens[i]);
	return r;
}

/* Put the authentication settings of c (NULL: embedded) into reply. */
static int
fsshd_mon_put_settings(const struct sshdconf *c, struct buf *reply)
{
	char *methods = NULL;
	uint8_t enabled = AUTH_SERVER_PUBLICKEY;
	uint32_t max = 0;
	int r;

	if (c != NULL) {
		enabled = (c->pubkey_authentication ? AUTH_SERVER_PUBLICKEY : 0) |
		    (c->password_authentication ? AUTH_SERVER_PASSWORD : 0) |
		    (c->kbd_interactive_authentication ?
		    AUTH_SERVER_KBDINT : 0);
		max = c->max_auth_tries > 0 ? (uint32_t)c->max_auth_tries : 0;
		if (c->authentication_methods.n > 0 &&
		    strcmp(c->authentication_methods.v[0], "any") != 0 &&
		    (methods = fsshd_session_auth_methods(c)) == NULL)
			return FERR_ALLOC;
	}
	if ((r = buf_put_u8(reply, enabled)) == 0 &&
	    (r = buf_put_u32(reply, max)) == 0 &&
	    (r = buf_put_cstring(reply, methods != NULL ? methods : "any")) == 0)
		r = buf_put_cstring(reply, c != NULL &&
		    c->pubkey_accepted_algorithms != NULL ?
		    c->pubkey_accepted_algorithms : "");
	free(methods);
	return r;
}

/*
 * The user's settings (Match applied), see MON_USER.  Refused (ending
 * the connection) the second time, for a user other than the one
 * earlier requests named, and for a name that is empty or longer than a
 * USERAUTH_REQUEST may carry.
 */
static int
fsshd_mon_user(struct fsshd_mon *m, struct buf *req, struct buf *reply)
{
	struct sshdconf *tmp = NULL;
	const struct sshdconf *c;
	char *user = NULL;
	size_t len;
	int r;

	if ((r = buf_get_cstring(req, &user, &len)) != 0 ||
	    (r = buf_expect_end(req)) != 0)
		goto out;
	if (len == 0 || len > AUTH_USER_MAX) {
		r = FERR_FORMAT;
		goto out;
	}
	if (m->user_fixed || (m->auser != NULL &&
	    strcmp(m->auser, user) != 0)) {
		log_error("monitor: settings for %.100s asked again or after "
		    "requests for %.100s from %s", user,
		    m->auser != NULL ? m->auser : "?", m->as.peer);
		r = FERR_PERMISSION;
		goto out;
	}
	if ((r = fsshd_mon_set_user(m, user)) != 0)
		goto out;
	m->user_fixed = 1;
	c = fsshd_session_auth_conf(&m->as, user, &tmp);
	r = fsshd_mon_put_settings(c, reply);
 out:
	sshdconf_free(tmp);
	free(user);
	return r;
}

/*
 * Whether HostKeyAlgorithms names ssh-rsa (SHA-1): only then may the
 * pre-auth process have negotiated it, so only then does the monitor
 * make SHA-1 signatures for it.
 */
static int
fsshd_mon_sha1_ok(const struct fsshd_mon *m)
{
	const char *p, *e;
	size_t n;

	if (m->o->conf == NULL ||
	    (p = m->o->conf->hostkey_algorithms) == NULL || *p == '-')
		return 0;
	if (*p == '+' || *p == '^')
		p++;
	for (; *p != '\0'; p = *e == ',' ? e + 1 : e) {
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		n = (size_t)(e - p);
		if (n == 7 && strncmp(p, "ssh-rsa", 7) == 0)
			return 1;
	}
	return 0;
}

/* Sign an exchange hash with the host key whose public half is given. */
static int
fsshd_mon_sign(struct fsshd_mon *m, struct buf *req, struct buf *reply)
{
	struct key *pub = NULL;
	struct buf *sig = NULL;
	char *alg = NULL;
	const uint8_t *blob, *data;
	size_t bloblen, len, i;
	int r;

	if ((r = buf_get_string_direct(req, &blob, &bloblen)) != 0 ||
	    (r = buf_get_cstring(req, &alg, NULL)) != 0 ||
	    (r = buf_get_string_direct(req, &data, &len)) != 0 ||
	    (r = buf_expect_end(req)) != 0)
		goto out;
	/* An exchange hash is a digest: 20 to 64 bytes. */
	if (len < 20 || len > 64 ||
	    key_from_blob_mem(blob, bloblen, &pub) != 0) {
		r = FERR_PROTOCOL;
		goto out;
	}
	for (i = 0; i < m->nkeys; i++)
		if (key_equal_public(m->keys[i], pub))
			break;
	if (i == m->nkeys) {
		r = FERR_PROTOCOL;
		goto out;
	}
	/* The first exchange hash is the session identifier (RFC 4253 7.2). */
	if (m->session_id == NULL) {
		if ((m->session_id = buf_new()) == NULL) {
			r = FERR_ALLOC;
			goto out;
		}
		if ((r = buf_put(m->session_id, data, len)) != 0)
			goto out;
	}
	if ((sig = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = key_sign(m->keys[i], alg, data, len,
	    fsshd_mon_sha1_ok(m) ? KEY_SIG_ALLOW_SHA1 : 0, sig)) != 0) {
		log_error("host key signature (%s): %s", alg, err_str(r));
		buf_reset(sig);
	}
	r = buf_put_stringb(reply, sig);
 out:
	buf_free(sig);
	key_free(pub);
	free(alg);
	return r;
}

static int
fsshd_mon_authdone(struct fsshd_mon *m, struct buf *req, struct buf *reply)
{
	char *user = NULL, *methods = NULL;
	int r;

	(void)reply;
	if ((m->tstate = buf_new()) == NULL)
		return FERR_ALLOC;
	buf_set_secret(m->tstate);
	if ((r = buf_set_max_size(m->tstate, FSSHD_MON_MAX)) != 0 ||
	    (r = buf_get_cstring(req, &user, NULL)) != 0 ||
	    (r = buf_get_cstring(req, &methods, NULL)) != 0 ||
	    (r = buf_get_stringb(req, m->tstate)) != 0 ||
	    (r = buf_expect_end(req)) != 0)
		goto out;
	if (m->auser == NULL || strcmp(m->auser, user) != 0 ||
	    fsshd_session_user_ok(&m->as, user) != 1 ||
	    !fsshd_mon_methods_ok(m, methods)) {
		log_error("pre-auth process claims %s for %s: not approved by "
		    "the monitor", methods, user);
		r = FERR_PERMISSION;
		goto out;
	}
	/* The options of the key that signed apply to the session. */
	if ((m->approved & MON_M_PUBKEY) && m->signer != NULL &&
	    (m->signer_cert != NULL ?
	    fsshd_session_cert_ok(&m->as, user, m->signer_cert) :
	    fsshd_session_pubkey_ok(&m->as, user, m->signer)) != 1) {
		r = FERR_PERMISSION;
		goto out;
	}
	if (!(m->approved & MON_M_PUBKEY)) {
		authkeys_decision_clear(&m->as.keyopts);
		m->as.keyfp[0] = '\0';
	}
	fsshd_kbd_free(m->kbd);
	m->kbd = NULL;
	/* One line per decision, with the key as sshd logs it. */
	log_info("Accepted %s for %s from %s ssh2%s%s", methods, user,
	    m->as.peer, strstr(methods, "publickey") != NULL &&
	    m->as.keyfp[0] != '\0' ? ": " : "",
	    strstr(methods, "publickey") != NULL ? m->as.keyfp : "");
	m->done = 1;
 out:
	free(user);
	free(methods);
	return r;
}

/*
 * One request: allowed in the current state by the table, else refused
 * (logged).  *answerp says whether reply goes back.
 */
static int
fsshd_mon_dispatch(struct fsshd_mon *m, uint8_t type, struct buf *req,
    struct buf *reply, int *answerp)
{
	size_t i, n = sizeof(fsshd_mon_table) / sizeof(fsshd_mon_table[0]);
	int r;

	*answerp = 0;
	for (i = 0; i < n; i++)
		if (fsshd_mon_table[i].type == type)
			break;
	if (i == n || !(fsshd_mon_table[i].states & m->state)) {
		log_error("monitor: request %u not permitted in state %u "
		    "from %s", type, m->state, m->as.peer);
		return FERR_PERMISSION;
	}
	if ((r = fsshd_mon_table[i].fn(m, req, reply)) != 0) {
		log_error("monitor: bad %s request from %s: %s",
		    fsshd_mon_table[i].name, m->as.peer, err_str(r));
		return r;
	}
	*answerp = fsshd_mon_table[i].reply;
	return 0;
}

/*
 * Serve requests from the process on m->fd until it closes its end (0),
 * hands over after authentication (0, m->done set), or breaks the rules
 * (a negative code, logged).
 */
static int
fsshd_mon_serve(struct fsshd_mon *m)
{
	struct buf *req = NULL, *reply = NULL;
	uint8_t type;
	int answer, r = 0;

	if ((req = buf_new()) == NULL || (reply = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	buf_set_secret(req);
	buf_set_secret(reply);
	while (!m->done) {
		buf_reset(req);
		buf_reset(reply);
		if ((r = fsshd_mon_recv(m->fd, &type, req)) != 0) {
			if (r == FERR_CONN_CLOSED)
				r = 0;
			break;
		}
		if ((r = fsshd_mon_dispatch(m, type, req, reply, &answer)) != 0)
			break;
		if (answer && (r = fsshd_mon_send(m->fd, type, reply)) != 0)
			break;
	}
 out:
	buf_free(req);
	buf_free(reply);
	return r;
}

/* ---- the process model ---- */

static volatile pid_t fsshd_mon_grace_pid = -1;

/*
 * LoginGraceTime ran out: only async-signal-safe calls here.  The
 * pre-auth process is killed and the monitor leaves with a status the
 * listener logs and penalises.
 */
static void
fsshd_mon_on_alarm(int signo)
{
	(void)signo;
	if (fsshd_mon_grace_pid > 0)
		kill(fsshd_mon_grace_pid, SIGKILL);
	_exit(FSSHD_EXIT_GRACE);
}

static volatile pid_t fsshd_mon_child_pid = -1;
static volatile pid_t fsshd_mon_self_pid = -1;

/*
 * SIGTERM, SIGINT and SIGHUP to the monitor go on to its child (as
 * sshd's monitor does), so that stopping a connection's monitor ends the
 * connection; only async-signal-safe calls here.
 */
static void
fsshd_mon_on_stop(int signo)
{
	/*
	 * Only the monitor relays: a process it forked (the PAM
	 * conversation's child) inherits the handler but not the role.
	 */
	if (fsshd_mon_child_pid > 0 && getpid() == fsshd_mon_self_pid)
		kill(fsshd_mon_child_pid, signo);
	else if (getpid() != fsshd_mon_self_pid) {
		signal(signo, SIG_DFL);
		raise(signo);
	}
}

static const int fsshd_mon_relayed[] = { SIGTERM, SIGINT, SIGHUP };
#define FSSHD_MON_NRELAYED \
	(sizeof(fsshd_mon_relayed) / sizeof(fsshd_mon_relayed[0]))

/*
 * Relay the signals to child (-1: stop relaying); with old, save the
 * handlers in place first; with restore, put those back instead.
 */
static void
fsshd_mon_relay_signals(pid_t child, struct sigaction *old,
    const struct sigaction *restore)
{
	struct sigaction sa;
	size_t i;

	fsshd_mon_self_pid = getpid();
	fsshd_mon_child_pid = child;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fsshd_mon_on_stop;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < FSSHD_MON_NRELAYED; i++)
		sigaction(fsshd_mon_relayed[i], restore != NULL ?
		    &restore[i] : &sa, old != NULL ? &old[i] : NULL);
}

/* Load the private host keys (after the pre-auth process started). */
static int
fsshd_mon_load_keys(struct fsshd_mon *m)
{
	struct buf *b = NULL;
	size_t i;
	int r;

	for (i = 0; i < m->o->nhostkey_paths; i++) {
		if ((r = key_read_file(m->o->hostkey_paths[i], 0, &b)) != 0 ||
		    (r = key_parse_private(b, NULL, &m->keys[m->nkeys])) != 0) {
			log_error("host key %s: %s", m->o->hostkey_paths[i],
			    r == FERR_SYSTEM ? strerror(errno) : err_str(r));
			buf_free(b);
			return r;
		}
		buf_free(b);
		b = NULL;
		m->nkeys++;
	}
	if (m->nkeys == 0)
		return FERR_CONFIG;
	/* HostCertificate, for the post-auth process's later rekeys. */
	if (m->o->conf != NULL &&
	    fsshd_hostcert_load(m->o->conf, m->keys, m->nkeys) != 0)
		return FERR_CONFIG;
	return 0;
}

static int
fsshd_mon_send_hostkeys(struct fsshd_mon *m)
{
	struct buf *b, *blob = NULL;
	size_t i;
	int r;

	if ((b = buf_new()) == NULL || (blob = buf_new()) == NULL) {
		buf_free(b);
		return FERR_ALLOC;
	}
	if ((r = buf_put_u32(b, (uint32_t)m->nkeys)) != 0)
		goto out;
	for (i = 0; i < m->nkeys; i++) {
		buf_reset(blob);
		if ((r = key_to_blob(m->keys[i], blob)) != 0 ||
		    (r = buf_put_stringb(b, blob)) != 0)
			goto out;
	}
	r = fsshd_mon_send(m->fd, MON_HOSTKEYS, b);
 out:
	buf_free(blob);
	buf_free(b);
	return r;
}

static void
fsshd_mon_free(struct fsshd_mon *m)
{
	size_t i;

	for (i = 0; i < m->nkeys; i++)
		key_free(m->keys[i]);
	buf_free(m->session_id);
	buf_free(m->tstate);
	key_free(m->signer);
	key_cert_free(m->signer_cert);
	fsshd_kbd_free(m->kbd);
	free(m->auser);
	if (m->pam_session)
		fsshd_pam_session_close();
	fsshd_session_authstate_clear(&m->as);
}

/* A monitor before the pre-auth process starts; 0 or -1. */
static int
fsshd_mon_init(struct fsshd_mon *m, struct fsshd_opts *o, const char *peer,
    const char *addr, const char *laddr, int lport)
{
	memset(m, 0, sizeof(*m));
	m->o = o;
	m->as.o = o;
	m->as.peer = peer;
	m->as.addr = addr;
	m->as.laddr = laddr;
	m->as.lport = lport;
	m->state = MON_ST_PREAUTH;
	m->fd = -1;
	/* The embedded default knows its one account from the start. */
	if (o->conf == NULL && ((m->as.acct.name = strdup(o->user)) == NULL ||
	    (m->as.acct.home = strdup(o->home)) == NULL ||
	    (m->as.acct.shell = strdup(o->shell)) == NULL))
		return -1;
	m->as.acct.uid = o->uid;
	m->as.acct.gid = o->gid;
	return 0;
}

/*
 * Wait for pid; its wait status.  The exit is awaited without reaping
 * (WNOWAIT): meanwhile a relayed signal or the grace alarm still reaches
 * our own child.  Then, with those signals held back, the handlers
 * forget it and it is reaped: a reaped pid is free, and signalling it
 * could hit another process given the same pid.
 */
static int
fsshd_mon_reap(pid_t pid)
{
	sigset_t hold, old;
	siginfo_t si;
	int status = 0;
	size_t i;

	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == -1 &&
	    errno == EINTR)
		;
	sigemptyset(&hold);
	sigaddset(&hold, SIGALRM);
	for (i = 0; i < FSSHD_MON_NRELAYED; i++)
		sigaddset(&hold, fsshd_mon_relayed[i]);
	(void)sigprocmask(SIG_BLOCK, &hold, &old);
	if (fsshd_mon_child_pid == pid)
		fsshd_mon_child_pid = -1;
	if (fsshd_mon_grace_pid == pid)
		fsshd_mon_grace_pid = -1;
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			status = 0;
			break;
		}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}

/* The post-auth process: take the user's identity, serve the session. */
static void __attribute__((noreturn))
fsshd_mon_postauth(struct fsshd_mon *m, int in_fd, int out_fd, int mon_fd)
{
	char why[512];
	size_t i;
	int r;

	signal(SIGALRM, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	/* The private host keys stay with the monitor (freed: wiped). */
	for (i = 0; i < m->nkeys; i++) {
		key_free(m->keys[i]);
		m->keys[i] = NULL;
	}
	m->nkeys = 0;
	if (m->o->conf != NULL && fsshd_become_user(m->as.eff, &m->as.acct,
	    why, sizeof(why)) != 0) {
		log_error("session for %s refused: %s", m->as.acct.name, why);
		_exit(1);
	}
	r = fsshd_session_postauth(m->o, &m->as, m->tstate, in_fd, out_fd,
	    mon_fd);
	prog_exit(r == 0 ? 0 : 1);
}

int
fsshd_monitor_run(struct fsshd_opts *o, int in_fd, int out_fd,
    const char *peer, const char *addr, const char *laddr, int lport)
{
	struct fsshd_mon m;
	struct sigaction sa, oldsig[FSSHD_MON_NRELAYED];
	int sp[2], status, r, ret = 1, relaying = 0;
	pid_t pid;

	if (fsshd_mon_init(&m, o, peer, addr, laddr, lport) != 0)
		goto out;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		log_error("socketpair: %s", strerror(errno));
		goto out;
	}
	if ((pid = fork()) == -1) {
		log_error("fork: %s", strerror(errno));
		close(sp[0]);
		close(sp[1]);
		goto out;
	}
	if (pid == 0) {
		close(sp[0]);
		if (o->startup_fd >= 0)
			close(o->startup_fd);
		fsshd_session_preauth(o, in_fd, out_fd, sp[1], peer);
	}
	close(sp[1]);
	m.fd = sp[0];
	fsshd_mon_relay_signals(pid, oldsig, NULL);
	relaying = 1;
	fsshd_mon_grace_pid = pid;
	if (o->grace > 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = fsshd_mon_on_alarm;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, NULL);
		alarm(o->grace);
	}
	if ((r = fsshd_mon_load_keys(&m)) != 0 ||
	    (r = fsshd_mon_send_hostkeys(&m)) != 0 ||
	    (r = fsshd_mon_serve(&m)) != 0 || !m.done) {
		close(m.fd);
		if (r != 0)
			kill(pid, SIGKILL);
		status = fsshd_mon_reap(pid);
		alarm(0);
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL) {
			log_error("pre-auth process for %s crashed: "
			    "signal %d%s", peer, WTERMSIG(status),
			    WTERMSIG(status) == SIGSYS ?
			    " (a system call the sandbox forbids)" : "");
			ret = FSSHD_EXIT_CRASH;
		} else if (r != 0)
			ret = FSSHD_EXIT_CRASH;
		else
			ret = m.attempted ? FSSHD_EXIT_AUTHFAIL :
			    FSSHD_EXIT_NOAUTH;
		goto out;
	}
	/* Authenticated: the listener stops counting us as a startup. */
	alarm(0);
	fsshd_mon_grace_pid = -1;
	if (o->startup_fd >= 0) {
		close(o->startup_fd);
		o->startup_fd = -1;
	}
	close(m.fd);
	(void)fsshd_mon_reap(pid);
	/*
	 * The PAM session is opened here, as root, and closed by this
	 * process when the post-auth process has ended (as sshd does);
	 * the post-auth process inherits its environment.
	 */
	if (o->conf != NULL) {
		char why[512];

		if (fsshd_pam_session_open(m.as.eff, &m.as.acct, m.as.addr,
		    why, sizeof(why)) != 0) {
			log_error("session for %s refused: %s",
			    m.as.acct.name, why);
			goto out;
		}
		m.pam_session = 1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == -1) {
		log_error("socketpair: %s", strerror(errno));
		goto out;
	}
	if ((pid = fork()) == -1) {
		log_error("fork: %s", strerror(errno));
		close(sp[0]);
		close(sp[1]);
		goto out;
	}
	if (pid == 0) {
		close(sp[0]);
		fsshd_mon_postauth(&m, in_fd, out_fd, sp[1]);
	}
	close(sp[1]);
	fsshd_mon_relay_signals(pid, NULL, NULL);
	close(in_fd);
	if (out_fd != in_fd)
		close(out_fd);
	m.fd = sp[0];
	if (fsshd_mon_send_hostkeys(&m) != 0)
		kill(pid, SIGTERM);
	/* The transport keys are the post-auth process's alone now. */
	buf_free(m.tstate);
	m.tstate = NULL;
	m.state = MON_ST_POSTAUTH;
	m.done = 0;
	if (fsshd_mon_serve(&m) != 0)
		kill(pid, SIGTERM);
	close(m.fd);
	status = fsshd_mon_reap(pid);
	ret = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
 out:
	/* With -d the listener goes on: its own handlers back. */
	if (relaying)
		fsshd_mon_relay_signals(-1, NULL, oldsig);
	fsshd_mon_free(&m);
	return ret;
}

int
fsshd_monitor_fuzz(struct fsshd_opts *o, struct key *hostkey,
    const uint8_t *data, size_t len, struct buf *replies)
{
	struct fsshd_mon m;
	struct buf *in = NULL, *req = NULL, *reply = NULL;
	const uint8_t *p;
	size_t plen;
	uint8_t type;
	int answer, r = 0;

	if (fsshd_mon_init(&m, o, "fuzz port 1", "127.0.0.1", "127.0.0.1",
	    22) != 0 || (in = buf_from(data, len)) == NULL ||
	    (reply = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	m.keys[0] = hostkey;
	m.nkeys = 1;
	while (buf_len(in) > 0 && r == 0) {
		if (buf_get_u8(in, &type) != 0 ||
		    buf_get_string_direct(in, &p, &plen) != 0 ||
		    (req = buf_from(p, plen)) == NULL)
			break;
		buf_reset(reply);
		r = fsshd_mon_dispatch(&m, type, req, reply, &answer);
		buf_free(req);
		req = NULL;
		if (r == 0 && answer && replies != NULL &&
		    ((r = buf_put_u8(replies, type)) != 0 ||
		    (r = buf_put_stringb(replies, reply)) != 0))
			break;
		if (m.done) {
			/* As after the hand-over: signatures only. */
			m.done = 0;
			m.state = MON_ST_POSTAUTH;
			buf_free(m.tstate);
			m.tstate = NULL;
		}
	}
 out:
	m.nkeys = 0;		/* the caller's key */
	buf_free(in);
	buf_free(reply);
	fsshd_mon_free(&m);
	return r;
}
