/*
 * fsshd's password, account and keyboard-interactive decisions, through
 * PAM (UsePAM yes, service "ferry") or the shadow file.
 *
 * PAM's conversation is a callback that wants the answers before it
 * returns, while the SSH side asks the client and waits for packets.  As
 * OpenSSH does, the keyboard-interactive PAM conversation therefore runs
 * in a child process: it calls pam_authenticate() and pam_acct_mgmt()
 * and sends each batch of PAM messages to us over a socket pair, we turn
 * them into an INFO_REQUEST and send the client's responses back.  The
 * messages on the pair are framed as a u32 length and a body built with
 * struct buf.  Passwords (the "password" method) need no client round
 * trip, so they go through PAM in this process.
 */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <shadow.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_PAM
#include <security/pam_appl.h>
#endif

#include <openssl/crypto.h>

#include "ferry/auth.h"
#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sshdconf.h"
#include "fsshd-auth.h"
#include "fsshd.h"
#include "misc.h"

#define FSSHD_PAM_SERVICE	"ferry"
/* Largest message on the PAM child's socket pair. */
#define FSSHD_KBD_MSG_MAX	(64U * 1024)

/* Messages on the socket pair. */
enum fsshd_kbd_msg {
	FSSHD_KBD_MSG_CONV = 1,		/* child: u32 n, n x (u32 style, text) */
	FSSHD_KBD_MSG_RESP = 2,		/* parent: u32 n, n x string */
	FSSHD_KBD_MSG_RESULT = 3,	/* child: u32 ok, string why */
};

/* Prompt styles on the pair (PAM's values are not relied upon). */
enum fsshd_kbd_style {
	FSSHD_STYLE_ECHO_OFF = 1,
	FSSHD_STYLE_ECHO_ON = 2,
	FSSHD_STYLE_ERROR = 3,
	FSSHD_STYLE_INFO = 4,
};

struct fsshd_kbd {
	const struct sshdconf *eff;
	const struct fsshd_account *acct;
	char *rhost;
	unsigned int round;
	int pam;			/* the PAM child below is used */
	int fd;				/* our end of the pair, or -1 */
	pid_t pid;
};

/* Days since the epoch, as the shadow file counts them. */
static long
fsshd_auth_today(void)
{
	return (long)(time(NULL) / 86400);
}

/* The shadow entry's hash or the password file's; NULL when none. */
static const char *
fsshd_auth_hash(const struct fsshd_account *a, struct spwd **spp)
{
	*spp = getspnam(a->name);
	if (*spp != NULL)
		return (*spp)->sp_pwdp;
	return a->passwd;
}

/* The shadow rules for a locked or expired account, as sshd applies them. */
static int
fsshd_auth_shadow_account(const struct fsshd_account *a, char *why,
    size_t whylen)
{
	struct spwd *sp;
	const char *hash = fsshd_auth_hash(a, &sp);

	if (hash != NULL && (hash[0] == '!' || strcmp(hash, "*LK*") == 0 ||
	    strncmp(hash, "*LOCKED*", 8) == 0)) {
		snprintf(why, whylen, "account is locked");
		return 0;
	}
	if (sp != NULL && sp->sp_expire != -1 &&
	    fsshd_auth_today() > sp->sp_expire) {
		snprintf(why, whylen, "account has expired");
		return 0;
	}
	return 1;
}

/* crypt(3) against the shadow file; password expiry refuses. */
static int
fsshd_auth_shadow_password(const struct sshdconf *eff,
    const struct fsshd_account *a, const char *password, char *why,
    size_t whylen)
{
	struct crypt_data *cd;
	struct spwd *sp;
	const char *hash, *got;
	size_t len;
	long today = fsshd_auth_today();
	int ok = 0;

	if (!fsshd_auth_shadow_account(a, why, whylen))
		return 0;
	/* getspnam's entry is static: fetch it after the account check. */
	hash = fsshd_auth_hash(a, &sp);
	snprintf(why, whylen, "wrong password");
	if (hash == NULL || hash[0] == '*' || (hash[0] == '\0' &&
	    !eff->permit_empty_passwords)) {
		snprintf(why, whylen, "no usable password");
		return 0;
	}
	if (sp != NULL && (sp->sp_lstchg == 0 || (sp->sp_max != -1 &&
	    sp->sp_lstchg > 0 && today > sp->sp_lstchg + sp->sp_max))) {
		snprintf(why, whylen, "password has expired");
		return 0;
	}
	if (hash[0] == '\0')
		return password[0] == '\0';
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return 0;
	if ((got = crypt_r(password, hash, cd)) != NULL && got[0] != '*' &&
	    (len = strlen(hash)) == strlen(got))
		ok = CRYPTO_memcmp(got, hash, len) == 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

#ifdef HAVE_PAM
/* The password conversation: each hidden prompt gets the password. */
static int
fsshd_pam_pwconv(int n, const struct pam_message **msg,
    struct pam_response **resp, void *ctx)
{
	struct pam_response *r;
	int i;

	*resp = NULL;
	if (n <= 0 || n > PAM_MAX_NUM_MSG ||
	    (r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_CONV_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			if ((r[i].resp = strdup(ctx)) == NULL)
				goto fail;
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			break;
		default:
			goto fail;	/* nothing to answer a visible prompt */
		}
	}
	*resp = r;
	return PAM_SUCCESS;
 fail:
	for (i = 0; i < n; i++)
		if (r[i].resp != NULL) {
			explicit_bzero(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	free(r);
	return PAM_CONV_ERR;
}

/* pam_start for the account with PAM_RHOST set; NULL on failure. */
static pam_handle_t *
fsshd_pam_start(const struct fsshd_account *a, const char *rhost,
    const struct pam_conv *conv, char *why, size_t whylen)
{
	pam_handle_t *ph = NULL;
	int rc;

	if ((rc = pam_start(FSSHD_PAM_SERVICE, a->name, conv, &ph)) !=
	    PAM_SUCCESS) {
		snprintf(why, whylen, "pam_start: %s", pam_strerror(ph, rc));
		return NULL;
	}
	if (rhost != NULL &&
	    (rc = pam_set_item(ph, PAM_RHOST, rhost)) != PAM_SUCCESS) {
		snprintf(why, whylen, "PAM_RHOST: %s", pam_strerror(ph, rc));
		pam_end(ph, rc);
		return NULL;
	}
	return ph;
}

/* pam_acct_mgmt's answer as a decision. */
static int
fsshd_pam_acct(pam_handle_t *ph, char *why, size_t whylen)
{
	int rc = pam_acct_mgmt(ph, 0);

	if (rc == PAM_SUCCESS)
		return 1;
	if (rc == PAM_NEW_AUTHTOK_REQD)
		snprintf(why, whylen, "password has expired (change required)");
	else
		snprintf(why, whylen, "PAM account: %s", pam_strerror(ph, rc));
	return 0;
}
#endif /* HAVE_PAM */

int
fsshd_auth_account(const struct sshdconf *eff, const struct fsshd_account *a,
    const char *rhost, char *why, size_t whylen)
{
	why[0] = '\0';
#ifdef HAVE_PAM
	if (eff->use_pam) {
		struct pam_conv conv = { fsshd_pam_pwconv, (void *)"" };
		pam_handle_t *ph;
		int ok;

		if ((ph = fsshd_pam_start(a, rhost, &conv, why, whylen)) == NULL)
			return 0;
		ok = fsshd_pam_acct(ph, why, whylen);
		pam_end(ph, ok ? PAM_SUCCESS : PAM_AUTH_ERR);
		return ok;
	}
#else
	(void)rhost;
	if (eff->use_pam) {
		snprintf(why, whylen, "UsePAM yes, but built without PAM");
		return 0;
	}
#endif
	return fsshd_auth_shadow_account(a, why, whylen);
}

int
fsshd_auth_password(const struct sshdconf *eff, const struct fsshd_account *a,
    const char *rhost, const char *password, char *why, size_t whylen)
{
	why[0] = '\0';
	if (a->uid == 0 && eff->permit_root_login != SSHDCONF_ROOT_YES) {
		snprintf(why, whylen, "root login refused (PermitRootLogin)");
		return 0;
	}
#ifdef HAVE_PAM
	if (eff->use_pam) {
		struct pam_conv conv = { fsshd_pam_pwconv, (void *)password };
		pam_handle_t *ph;
		int rc, ok = 0;

		if (password[0] == '\0' && !eff->permit_empty_passwords) {
			snprintf(why, whylen, "empty password");
			return 0;
		}
		if ((ph = fsshd_pam_start(a, rhost, &conv, why, whylen)) == NULL)
			return 0;
		rc = pam_authenticate(ph, eff->permit_empty_passwords ? 0 :
		    PAM_DISALLOW_NULL_AUTHTOK);
		if (rc != PAM_SUCCESS)
			snprintf(why, whylen, "%s", pam_strerror(ph, rc));
		else
			ok = fsshd_pam_acct(ph, why, whylen);
		pam_end(ph, ok ? PAM_SUCCESS : PAM_AUTH_ERR);
		return ok;
	}
#else
	(void)rhost;
	if (eff->use_pam) {
		snprintf(why, whylen, "UsePAM yes, but built without PAM");
		return 0;
	}
#endif
	return fsshd_auth_shadow_password(eff, a, password, why, whylen);
}

/* ---- keyboard-interactive ---- */

void
fsshd_kbd_round_clear(struct fsshd_kbd_round *r)
{
	size_t i;

	free(r->name);
	free(r->instruction);
	for (i = 0; i < r->nprompts; i++)
		free(r->prompts[i]);
	memset(r, 0, sizeof(*r));
}

/* Send body as one framed message (body is wiped: it may hold secrets). */
static int
fsshd_kbd_send(int fd, struct buf *body)
{
	struct buf *m;
	int r;

	if ((m = buf_new()) == NULL)
		return FERR_ALLOC;
	buf_set_secret(m);
	if ((r = buf_put_stringb(m, body)) == 0)
		r = misc_write_all(fd, buf_ptr(m), buf_len(m));
	buf_free(m);
	return r;
}

/* Read exactly len bytes within the deadline; FERR_TIMEOUT, FERR_EOF. */
static int
fsshd_kbd_read(int fd, uint8_t *p, size_t len, time_t deadline)
{
	struct pollfd pfd;
	ssize_t n;
	time_t now;
	int pr;

	while (len > 0) {
		now = time(NULL);
		if (now >= deadline)
			return FERR_TIMEOUT;
		pfd.fd = fd;
		pfd.events = POLLIN;
		pr = poll(&pfd, 1, (int)(deadline - now) * 1000);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return FERR_SYSTEM;
		if (pr == 0)
			return FERR_TIMEOUT;
		if ((n = read(fd, p, len)) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return FERR_SYSTEM;
		}
		if (n == 0)
			return FERR_EOF;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Receive one framed message into body (reset first). */
static int
fsshd_kbd_recv(int fd, struct buf *body, time_t deadline)
{
	uint8_t hdr[4], *p;
	uint32_t len;
	int r;

	buf_reset(body);
	if ((r = fsshd_kbd_read(fd, hdr, sizeof(hdr), deadline)) != 0)
		return r;
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
	    (uint32_t)hdr[2] << 8 | hdr[3];
	if (len > FSSHD_KBD_MSG_MAX)
		return FERR_STRING_TOO_LARGE;
	if ((r = buf_reserve(body, len, &p)) != 0)
		return r;
	return fsshd_kbd_read(fd, p, len, deadline);
}

#ifdef HAVE_PAM
/* The child's side: its socket and the last answers. */
struct fsshd_pam_child {
	int fd;
	int failed;
};

static int
fsshd_pam_style(int pam_style)
{
	switch (pam_style) {
	case PAM_PROMPT_ECHO_OFF:
		return FSSHD_STYLE_ECHO_OFF;
	case PAM_PROMPT_ECHO_ON:
		return FSSHD_STYLE_ECHO_ON;
	case PAM_ERROR_MSG:
		return FSSHD_STYLE_ERROR;
	case PAM_TEXT_INFO:
		return FSSHD_STYLE_INFO;
	default:
		return -1;
	}
}

/*
 * The child's conversation: send the batch to the parent, and when it
 * holds prompts wait for as many answers.
 */
static int
fsshd_pam_kbdconv(int n, const struct pam_message **msg,
    struct pam_response **resp, void *ctx)
{
	struct fsshd_pam_child *c = ctx;
	struct pam_response *rs = NULL;
	struct buf *b = NULL;
	uint32_t type, cnt;
	int i, r, asks = 0, style;
	char *s;

	*resp = NULL;
	if (c->failed || n <= 0 || n > FSSHD_KBD_PROMPTS_MAX ||
	    (b = buf_new()) == NULL)
		goto fail;
	buf_set_secret(b);
	if (buf_put_u32(b, FSSHD_KBD_MSG_CONV) != 0 ||
	    buf_put_u32(b, (uint32_t)n) != 0)
		goto fail;
	for (i = 0; i < n; i++) {
		if ((style = fsshd_pam_style(msg[i]->msg_style)) < 0 ||
		    buf_put_u32(b, (uint32_t)style) != 0 ||
		    buf_put_string(b, msg[i]->msg, strnlen(msg[i]->msg,
		    FSSHD_KBD_TEXT_MAX)) != 0)
			goto fail;
		asks += style == FSSHD_STYLE_ECHO_OFF ||
		    style == FSSHD_STYLE_ECHO_ON;
	}
	if (fsshd_kbd_send(c->fd, b) != 0)
		goto fail;
	if ((rs = calloc((size_t)n, sizeof(*rs))) == NULL)
		goto fail;
	if (asks == 0) {
		buf_free(b);
		*resp = rs;
		return PAM_SUCCESS;
	}
	/*
	 * One answer per prompt, in order; messages get none.  No deadline
	 * of our own: the parent's timeout ends us.
	 */
	if (fsshd_kbd_recv(c->fd, b, time(NULL) + 24 * 3600) != 0 ||
	    buf_get_u32(b, &type) != 0 || type != FSSHD_KBD_MSG_RESP ||
	    buf_get_u32(b, &cnt) != 0 || cnt != (uint32_t)asks)
		goto fail;
	for (i = 0; i < n; i++) {
		style = fsshd_pam_style(msg[i]->msg_style);
		if (style != FSSHD_STYLE_ECHO_OFF && style != FSSHD_STYLE_ECHO_ON)
			continue;
		if ((r = buf_get_cstring(b, &s, NULL)) != 0)
			goto fail;
		rs[i].resp = s;
	}
	if (buf_expect_end(b) != 0)
		goto fail;
	buf_free(b);
	*resp = rs;
	return PAM_SUCCESS;
 fail:
	c->failed = 1;
	if (rs != NULL) {
		for (i = 0; i < n; i++)
			if (rs[i].resp != NULL) {
				explicit_bzero(rs[i].resp, strlen(rs[i].resp));
				free(rs[i].resp);
			}
		free(rs);
	}
	buf_free(b);
	return PAM_CONV_ERR;
}

/* The child process: authenticate, check the account, report, exit. */
static void __attribute__((noreturn))
fsshd_pam_child_main(const struct fsshd_kbd *k, int fd)
{
	struct fsshd_pam_child c = { fd, 0 };
	struct pam_conv conv = { fsshd_pam_kbdconv, &c };
	pam_handle_t *ph;
	struct buf *b;
	char why[256];
	int rc, ok = 0;

	why[0] = '\0';
	if ((ph = fsshd_pam_start(k->acct, k->rhost, &conv, why,
	    sizeof(why))) != NULL) {
		rc = pam_authenticate(ph, k->eff->permit_empty_passwords ? 0 :
		    PAM_DISALLOW_NULL_AUTHTOK);
		if (rc != PAM_SUCCESS)
			snprintf(why, sizeof(why), "%s", pam_strerror(ph, rc));
		else
			ok = fsshd_pam_acct(ph, why, sizeof(why));
		pam_end(ph, ok ? PAM_SUCCESS : PAM_AUTH_ERR);
	}
	if ((b = buf_new()) == NULL ||
	    buf_put_u32(b, FSSHD_KBD_MSG_RESULT) != 0 ||
	    buf_put_u32(b, (uint32_t)ok) != 0 ||
	    buf_put_cstring(b, why) != 0 || fsshd_kbd_send(fd, b) != 0)
		_exit(1);
	_exit(0);
}

/* Fork the PAM child. */
static int
fsshd_kbd_pam_start(struct fsshd_kbd *k)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		return FERR_SYSTEM;
	if ((pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		return FERR_SYSTEM;
	}
	if (pid == 0) {
		close(sv[0]);
		signal(SIGPIPE, SIG_IGN);
		signal(SIGCHLD, SIG_DFL);
		fsshd_pam_child_main(k, sv[1]);
	}
	close(sv[1]);
	k->fd = sv[0];
	k->pid = pid;
	return 0;
}

/* Append text and a newline to *accp (the round's instruction). */
static int
fsshd_kbd_append(char **accp, const char *text)
{
	size_t old = *accp != NULL ? strlen(*accp) : 0, add = strlen(text);
	char *n;

	if (old > FSSHD_KBD_TEXT_MAX || add > FSSHD_KBD_TEXT_MAX - old)
		return 0;	/* enough text: drop the rest */
	if ((n = realloc(*accp, old + add + 2)) == NULL)
		return FERR_ALLOC;
	memcpy(n + old, text, add);
	n[old + add] = '\n';
	n[old + add + 1] = '\0';
	*accp = n;
	return 0;
}

/*
 * One step with the PAM child: send the answers (after the first
 * round), then read until a batch with prompts or the result.
 */
static int
fsshd_kbd_pam_step(struct fsshd_kbd *k, unsigned int round,
    const char *const *resp, size_t nresp, struct fsshd_kbd_round *out, char *why, size_t whylen)
{
	struct buf *b;
	time_t deadline = time(NULL) + FSSHD_PAM_TIMEOUT;
	uint32_t type, n, i, style, ok;
	char *text = NULL, *reason = NULL;
	int r, st = FSSHD_KBD_FAIL;

	if ((b = buf_new()) == NULL)
		return FERR_ALLOC;
	buf_set_secret(b);
	if (round > 0) {
		if ((r = buf_put_u32(b, FSSHD_KBD_MSG_RESP)) != 0 ||
		    (r = buf_put_u32(b, (uint32_t)nresp)) != 0)
			goto out;
		for (i = 0; i < nresp; i++)
			if ((r = buf_put_cstring(b, resp[i])) != 0)
				goto out;
		if ((r = fsshd_kbd_send(k->fd, b)) != 0)
			goto out;
	}
	for (;;) {
		if ((r = fsshd_kbd_recv(k->fd, b, deadline)) != 0 ||
		    (r = buf_get_u32(b, &type)) != 0)
			goto out;
		if (type == FSSHD_KBD_MSG_RESULT) {
			if ((r = buf_get_u32(b, &ok)) != 0 ||
			    (r = buf_get_cstring(b, &reason, NULL)) != 0 ||
			    (r = buf_expect_end(b)) != 0)
				goto out;
			snprintf(why, whylen, "%s", reason);
			st = ok == 1 ? FSSHD_KBD_OK : FSSHD_KBD_FAIL;
			goto out;
		}
		if (type != FSSHD_KBD_MSG_CONV || (r = buf_get_u32(b, &n)) != 0) {
			r = r != 0 ? r : FERR_PROTOCOL;
			goto out;
		}
		/* A batch holds at most PAM_MAX_NUM_MSG messages: cap it. */
		if (n > FSSHD_KBD_PROMPTS_MAX) {
			r = FERR_PROTOCOL;
			goto out;
		}
		for (i = 0; i < n; i++) {
			if ((r = buf_get_u32(b, &style)) != 0 ||
			    (r = buf_get_cstring(b, &text, NULL)) != 0)
				goto out;
			if (style == FSSHD_STYLE_ECHO_OFF ||
			    style == FSSHD_STYLE_ECHO_ON) {
				out->echo[out->nprompts] =
				    style == FSSHD_STYLE_ECHO_ON;
				out->prompts[out->nprompts++] = text;
			} else {
				r = fsshd_kbd_append(&out->instruction, text);
				free(text);
				if (r != 0)
					goto out;
			}
			text = NULL;
		}
		if ((r = buf_expect_end(b)) != 0)
			goto out;
		/*
		 * Messages alone are kept for the instruction of the next
		 * request; prompts (with the messages before them) go out.
		 */
		if (out->nprompts > 0) {
			st = FSSHD_KBD_PROMPT;
			goto out;
		}
	}
 out:
	free(text);
	free(reason);
	buf_free(b);
	if (r != 0) {
		if (why[0] == '\0')
			snprintf(why, whylen, "PAM conversation: %s",
			    err_str(r));
		return r;
	}
	return st;
}
#endif /* HAVE_PAM */

int
fsshd_kbd_start(const struct sshdconf *eff, const struct fsshd_account *a,
    const char *rhost, struct fsshd_kbd **kp)
{
	struct fsshd_kbd *k;
	int r = 0;

	*kp = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return FERR_ALLOC;
	k->eff = eff;
	k->acct = a;
	k->fd = -1;
	if (rhost != NULL && (k->rhost = strdup(rhost)) == NULL) {
		free(k);
		return FERR_ALLOC;
	}
#ifdef HAVE_PAM
	if (eff->use_pam) {
		k->pam = 1;
		if ((r = fsshd_kbd_pam_start(k)) != 0) {
			fsshd_kbd_free(k);
			return r;
		}
	}
#endif
	*kp = k;
	return r;
}

int
fsshd_kbd_step(struct fsshd_kbd *k, const char *const *resp, size_t nresp,
    struct fsshd_kbd_round *out, char *why, size_t whylen)
{
	unsigned int round = k->round++;

	why[0] = '\0';
	fsshd_kbd_round_clear(out);
	if (round >= FSSHD_KBD_ROUNDS_MAX) {
		snprintf(why, whylen, "too many keyboard-interactive rounds");
		return FSSHD_KBD_FAIL;
	}
#ifdef HAVE_PAM
	if (k->pam)
		return fsshd_kbd_pam_step(k, round, resp, nresp, out, why,
		    whylen);
#endif
	if (!k->eff->use_pam && round == 0) {
		/* One password prompt, as sshd without PAM offers. */
		if ((out->name = strdup("")) == NULL ||
		    (out->instruction = strdup("")) == NULL ||
		    (out->prompts[0] = strdup("Password: ")) == NULL) {
			fsshd_kbd_round_clear(out);
			return FERR_ALLOC;
		}
		out->echo[0] = 0;
		out->nprompts = 1;
		return FSSHD_KBD_PROMPT;
	}
	if (k->eff->use_pam) {
		snprintf(why, whylen, "UsePAM yes, but built without PAM");
		return FSSHD_KBD_FAIL;
	}
	if (nresp != 1) {
		snprintf(why, whylen, "%zu responses to one prompt", nresp);
		return FSSHD_KBD_FAIL;
	}
	return fsshd_auth_password(k->eff, k->acct, k->rhost, resp[0], why,
	    whylen) ? FSSHD_KBD_OK : FSSHD_KBD_FAIL;
}

void
fsshd_kbd_free(struct fsshd_kbd *k)
{
	int status;

	if (k == NULL)
		return;
	if (k->fd >= 0)
		close(k->fd);
	if (k->pid > 0) {
		/* The child may sit in a PAM delay: it has nothing to finish. */
		kill(k->pid, SIGTERM);
		if (waitpid(k->pid, &status, 0) == -1 && errno != ECHILD)
			log_debug("PAM child %ld: %s", (long)k->pid,
			    strerror(errno));
	}
	free(k->rhost);
	free(k);
}

/* ---- PAM sessions ---- */

#ifdef HAVE_PAM
static pam_handle_t *fsshd_pam_session;
#endif

int
fsshd_pam_session_open(const struct sshdconf *eff,
    const struct fsshd_account *a, const char *rhost, char *why,
    size_t whylen)
{
	why[0] = '\0';
#ifdef HAVE_PAM
	if (eff->use_pam && fsshd_pam_session == NULL) {
		struct pam_conv conv = { fsshd_pam_pwconv, (void *)"" };
		pam_handle_t *ph;
		int rc;

		if ((ph = fsshd_pam_start(a, rhost, &conv, why, whylen)) == NULL)
			return -1;
		if ((rc = pam_setcred(ph, PAM_ESTABLISH_CRED)) != PAM_SUCCESS ||
		    (rc = pam_open_session(ph, 0)) != PAM_SUCCESS) {
			snprintf(why, whylen, "PAM session: %s",
			    pam_strerror(ph, rc));
			pam_end(ph, rc);
			return -1;
		}
		fsshd_pam_session = ph;
	}
#else
	(void)eff;
	(void)a;
	(void)rhost;
	(void)whylen;
#endif
	return 0;
}

char **
fsshd_pam_session_env(void)
{
#ifdef HAVE_PAM
	if (fsshd_pam_session != NULL)
		return pam_getenvlist(fsshd_pam_session);
#endif
	return NULL;
}

void
fsshd_pam_session_close(void)
{
#ifdef HAVE_PAM
	pam_handle_t *ph = fsshd_pam_session;
	int rc;

	if (ph == NULL)
		return;
	fsshd_pam_session = NULL;
	if ((rc = pam_close_session(ph, 0)) != PAM_SUCCESS ||
	    (rc = pam_setcred(ph, PAM_DELETE_CRED)) != PAM_SUCCESS)
		log_debug("PAM session close: %s", pam_strerror(ph, rc));
	pam_end(ph, rc);
#endif
}

/* ---- the library's keyboard-interactive callback, adapted ---- */

int
fsshd_auth_kbdint(struct auth_kbdint *conv, const struct sshdconf *eff,
    const struct fsshd_account *a, const char *rhost, struct fsshd_kbd **kp)
{
	struct fsshd_kbd_round out;
	const char *resp[AUTH_KBDINT_PROMPTS_MAX];
	size_t i, n = auth_kbdint_nresponses(conv);
	char why[256];
	int r;

	memset(&out, 0, sizeof(out));
	if (auth_kbdint_round(conv) == 0) {
		/* A new attempt: an abandoned one ends here. */
		fsshd_kbd_free(*kp);
		*kp = NULL;
		if ((r = fsshd_kbd_start(eff, a, rhost, kp)) != 0) {
			log_error("keyboard-interactive for %s: %s", a->name,
			    err_str(r));
			return AUTH_KBDINT_FAILURE;
		}
	}
	if (*kp == NULL || n > AUTH_KBDINT_PROMPTS_MAX)
		return AUTH_KBDINT_FAILURE;
	for (i = 0; i < n; i++)
		resp[i] = auth_kbdint_response(conv, i);
	r = fsshd_kbd_step(*kp, resp, n, &out, why, sizeof(why));
	if (r == FSSHD_KBD_PROMPT) {
		if ((r = auth_kbdint_set_text(conv, out.name, out.instruction)) != 0)
			goto done;
		for (i = 0; i < out.nprompts; i++)
			if ((r = auth_kbdint_add_prompt(conv, out.prompts[i],
			    out.echo[i])) != 0)
				goto done;
		fsshd_kbd_round_clear(&out);
		return AUTH_KBDINT_PROMPT;
	}
 done:
	fsshd_kbd_round_clear(&out);
	fsshd_kbd_free(*kp);
	*kp = NULL;
	if (r == FSSHD_KBD_OK)
		return AUTH_KBDINT_SUCCESS;
	if (r < 0)
		log_info("keyboard-interactive for %s from %s: %s", a->name,
		    rhost != NULL ? rhost : "?", why[0] != '\0' ? why :
		    err_str(r));
	else
		log_info("Failed keyboard-interactive for %s from %s: %s",
		    a->name, rhost != NULL ? rhost : "?", why);
	return AUTH_KBDINT_FAILURE;
}
