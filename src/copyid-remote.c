/*
 * fssh-copy-id: install keys in ~/.ssh/authorized_keys over an SFTP
 * session (see copyid_install in copyid.h for the rules).  Only SFTP
 * requests are used, never a remote command, so sftp-only accounts
 * work too.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/rand.h>

#include "ferry/authkeys.h"
#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/sftp-client.h"
#include "ferry/sftp-session.h"
#include "ferry/sftp.h"
#include "copyid.h"

#define CR_HANDLE_MAX	256
#define CR_EXT_POSIX_RENAME	"posix-rename@openssh.com"
#define CR_EXT_FSYNC		"fsync@openssh.com"

struct cr {
	struct sftp_session *s;
	struct sftp_client *e;
	struct copyid_result *res;
};

struct cr_handle {
	uint8_t h[CR_HANDLE_MAX];
	size_t len;
	int open;
};

static void __attribute__((format(printf, 2, 3)))
cr_fail(struct cr *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->res->msg, sizeof(c->res->msg), fmt, ap);
	va_end(ap);
}

/* The session ended (or memory ran out): say so. */
static int
cr_lost(struct cr *c, int r)
{
	const char *why = sftp_session_error(c->s);

	cr_fail(c, "%s", why != NULL && *why != '\0' ? why : err_str(r));
	return r;
}

/* The server's reason for a failed request, made safe to print. */
static void
cr_refused(struct cr *c, const char *what, const char *path,
    const struct sftp_session_reply *rep)
{
	const char *why = "unexpected reply";
	char *vis = NULL;

	if (rep->type == SSH_FXP_STATUS) {
		if (rep->errmsg != NULL && *rep->errmsg != '\0' &&
		    (vis = sftp_client_vis(rep->errmsg)) != NULL)
			why = vis;
		else
			why = sftp_status_str(rep->status);
	}
	cr_fail(c, "%s %s: %s", what, path, why);
	free(vis);
}

/* Finish a request begun on the engine and expect SSH_FX_OK. */
static int
cr_call_ok(struct cr *c, const char *what, const char *path)
{
	struct sftp_session_reply rep;
	int r;

	if ((r = sftp_session_call_end(c->s, &rep)) != 0) {
		sftp_session_reply_free(&rep);
		return cr_lost(c, r);
	}
	if (rep.type != SSH_FXP_STATUS || rep.status != SSH_FX_OK) {
		cr_refused(c, what, path, &rep);
		r = FERR_PERMISSION;
	}
	sftp_session_reply_free(&rep);
	return r;
}

/*
 * STAT or LSTAT path: 0 with *a set, 1 when it does not exist, or a
 * negative code.
 */
static int
cr_stat(struct cr *c, uint8_t type, const char *path, struct sftp_attrs *a)
{
	struct sftp_session_reply rep;
	int r;

	if ((r = sftp_session_call_path(c->s, type, path, &rep)) != 0) {
		sftp_session_reply_free(&rep);
		return cr_lost(c, r);
	}
	if (rep.type == SSH_FXP_ATTRS)
		*a = rep.attrs;
	else if (rep.type == SSH_FXP_STATUS &&
	    rep.status == SSH_FX_NO_SUCH_FILE)
		r = 1;
	else {
		cr_refused(c, "stat", path, &rep);
		r = FERR_PERMISSION;
	}
	sftp_session_reply_free(&rep);
	return r;
}

/* OPEN path with pflags and attrs a (may be NULL) into *h. */
static int
cr_open(struct cr *c, const char *path, uint32_t pflags,
    const struct sftp_attrs *a, struct cr_handle *h)
{
	struct sftp_session_reply rep;
	struct sftp_attrs none;
	struct buf *b;
	int r;

	memset(&none, 0, sizeof(none));
	if ((r = sftp_client_begin(c->e, SSH_FXP_OPEN, NULL, &b)) != 0)
		return cr_lost(c, r);
	if ((r = buf_put_cstring(b, path)) != 0 ||
	    (r = buf_put_u32(b, pflags)) != 0 ||
	    (r = sftp_attrs_put(b, a != NULL ? a : &none)) != 0) {
		sftp_client_abort(c->e);
		return cr_lost(c, r);
	}
	if ((r = sftp_session_call_end(c->s, &rep)) != 0) {
		sftp_session_reply_free(&rep);
		return cr_lost(c, r);
	}
	if (rep.type == SSH_FXP_HANDLE && rep.len > 0 &&
	    rep.len <= sizeof(h->h)) {
		memcpy(h->h, rep.data, rep.len);
		h->len = rep.len;
		h->open = 1;
	} else {
		cr_refused(c, "open", path, &rep);
		r = FERR_PERMISSION;
	}
	sftp_session_reply_free(&rep);
	return r;
}

/* CLOSE h (when open); what the server says is returned. */
static int
cr_close(struct cr *c, struct cr_handle *h, const char *path)
{
	struct sftp_session_reply rep;
	int r;

	if (!h->open)
		return 0;
	h->open = 0;
	if ((r = sftp_session_call_handle(c->s, SSH_FXP_CLOSE, h->h, h->len,
	    &rep)) != 0) {
		sftp_session_reply_free(&rep);
		return cr_lost(c, r);
	}
	if (rep.type != SSH_FXP_STATUS || rep.status != SSH_FX_OK) {
		cr_refused(c, "close", path, &rep);
		r = FERR_PERMISSION;
	}
	sftp_session_reply_free(&rep);
	return r;
}

/* FSTAT h into *a. */
static int
cr_fstat(struct cr *c, const struct cr_handle *h, const char *path,
    struct sftp_attrs *a)
{
	struct sftp_session_reply rep;
	int r;

	if ((r = sftp_session_call_handle(c->s, SSH_FXP_FSTAT, h->h, h->len,
	    &rep)) != 0) {
		sftp_session_reply_free(&rep);
		return cr_lost(c, r);
	}
	if (rep.type == SSH_FXP_ATTRS)
		*a = rep.attrs;
	else {
		cr_refused(c, "stat", path, &rep);
		r = FERR_PERMISSION;
	}
	sftp_session_reply_free(&rep);
	return r;
}

/* One READ at a time, collected by its callback. */
struct cr_read {
	int done;
	int eof;
	uint32_t status;
	char *errmsg;
	struct buf *out;
	int err;
};

static int
cr_read_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct cr_read *rd = arg;

	rd->done = 1;
	if (rep->type == SSH_FXP_DATA) {
		if (rep->len == 0)
			rd->eof = 1;
		else if ((rd->err = buf_put(rd->out, rep->data,
		    rep->len)) != 0)
			return 0;
	} else if (rep->type == SSH_FXP_STATUS && rep->status == SSH_FX_EOF)
		rd->eof = 1;
	else {
		rd->status = rep->type == SSH_FXP_STATUS ? rep->status :
		    SSH_FX_FAILURE;
		if (rep->type == SSH_FXP_STATUS && rep->errmsg != NULL)
			rd->errmsg = sftp_client_vis(rep->errmsg);
	}
	return 0;
}

static int
cr_read_done(void *arg)
{
	return ((struct cr_read *)arg)->done;
}

/* Read the whole file behind h into out (at most AUTHKEYS_FILE_MAX). */
static int
cr_read_all(struct cr *c, const struct cr_handle *h, const char *path,
    struct buf *out)
{
	struct cr_read rd;
	size_t chunk = sftp_client_rw_size(c->e);
	int r;

	memset(&rd, 0, sizeof(rd));
	rd.out = out;
	while (!rd.eof) {
		if (buf_len(out) > AUTHKEYS_FILE_MAX) {
			cr_fail(c, "%s is larger than %u bytes", path,
			    AUTHKEYS_FILE_MAX);
			return FERR_NO_SPACE;
		}
		rd.done = 0;
		if ((r = sftp_client_read(c->e, h->h, h->len, buf_len(out),
		    (uint32_t)chunk, cr_read_cb, &rd)) != 0 ||
		    (r = sftp_session_pump(c->s, cr_read_done, &rd)) != 0)
			return cr_lost(c, r);
		if (rd.err != 0)
			return cr_lost(c, rd.err);
		if (rd.status != 0) {
			cr_fail(c, "read %s: %s", path, rd.errmsg != NULL ?
			    rd.errmsg : sftp_status_str(rd.status));
			free(rd.errmsg);
			return FERR_PERMISSION;
		}
	}
	return 0;
}

/* WRITE len bytes at p to h from offset off on, in pieces. */
static int
cr_write_all(struct cr *c, const struct cr_handle *h, const char *path,
    uint64_t off, const uint8_t *p, size_t len)
{
	size_t chunk = sftp_client_rw_size(c->e), n;
	struct buf *b;
	int r;

	while (len > 0) {
		n = len < chunk ? len : chunk;
		if ((r = sftp_client_begin(c->e, SSH_FXP_WRITE, NULL, &b)) != 0)
			return cr_lost(c, r);
		if ((r = buf_put_string(b, h->h, h->len)) != 0 ||
		    (r = buf_put_u64(b, off)) != 0 ||
		    (r = buf_put_string(b, p, n)) != 0) {
			sftp_client_abort(c->e);
			return cr_lost(c, r);
		}
		if ((r = cr_call_ok(c, "write", path)) != 0)
			return r;
		off += n;
		p += n;
		len -= n;
	}
	return 0;
}

/* fsync@openssh.com on h when the server offers it. */
static int
cr_fsync(struct cr *c, const struct cr_handle *h, const char *path)
{
	struct buf *b;
	int r;

	if (!sftp_client_has_ext(c->e, CR_EXT_FSYNC, "1", NULL))
		return 0;
	if ((r = sftp_client_begin(c->e, SSH_FXP_EXTENDED, CR_EXT_FSYNC,
	    &b)) != 0)
		return cr_lost(c, r);
	if ((r = buf_put_string(b, h->h, h->len)) != 0) {
		sftp_client_abort(c->e);
		return cr_lost(c, r);
	}
	return cr_call_ok(c, "fsync", path);
}

/* A request with a path and attributes: MKDIR, SETSTAT. */
static int
cr_path_attrs(struct cr *c, uint8_t type, const char *what,
    const char *path, uint32_t perm)
{
	struct sftp_attrs a;
	struct buf *b;
	int r;

	memset(&a, 0, sizeof(a));
	a.flags = SSH_FILEXFER_ATTR_PERMISSIONS;
	a.perm = perm;
	if ((r = sftp_client_begin(c->e, type, NULL, &b)) != 0)
		return cr_lost(c, r);
	if ((r = buf_put_cstring(b, path)) != 0 ||
	    (r = sftp_attrs_put(b, &a)) != 0) {
		sftp_client_abort(c->e);
		return cr_lost(c, r);
	}
	return cr_call_ok(c, what, path);
}

/* RENAME, or posix-rename@openssh.com when posix is set. */
static int
cr_rename(struct cr *c, const char *from, const char *to, int posix)
{
	struct buf *b;
	int r;

	if ((r = sftp_client_begin(c->e, posix ? SSH_FXP_EXTENDED :
	    SSH_FXP_RENAME, posix ? CR_EXT_POSIX_RENAME : NULL, &b)) != 0)
		return cr_lost(c, r);
	if ((r = buf_put_cstring(b, from)) != 0 ||
	    (r = buf_put_cstring(b, to)) != 0) {
		sftp_client_abort(c->e);
		return cr_lost(c, r);
	}
	return cr_call_ok(c, "rename", from);
}

/* REMOVE path, ignoring the answer (cleanup of a temporary file). */
static void
cr_remove_quiet(struct cr *c, const char *path)
{
	struct sftp_session_reply rep;

	if (sftp_session_call_path(c->s, SSH_FXP_REMOVE, path, &rep) == 0)
		sftp_session_reply_free(&rep);
}

/* A temporary name next to the file: ".ssh/authorized_keys.XXXXXXXX". */
static int
cr_temp_name(char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[6];
	char sfx[sizeof(rnd) * 2 + 1];
	size_t i;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return FERR_LIBCRYPTO;
	for (i = 0; i < sizeof(rnd); i++) {
		sfx[2 * i] = hex[rnd[i] >> 4];
		sfx[2 * i + 1] = hex[rnd[i] & 15];
	}
	sfx[sizeof(sfx) - 1] = '\0';
	if ((size_t)snprintf(out, outlen, "%s.ferry-%s", COPYID_FILE, sfx) >=
	    outlen)
		return FERR_NO_SPACE;
	return 0;
}

/*
 * Just before the rename: COPYID_FILE must still be as it was read
 * (was: its attributes, NULL when it did not exist), or changes made
 * meanwhile would be lost.  A small window stays between this check and
 * the rename; SFTP offers nothing to close it.
 */
static int
cr_unchanged(struct cr *c, const struct sftp_attrs *was)
{
	struct sftp_attrs now;
	int r;

	if ((r = cr_stat(c, SSH_FXP_STAT, COPYID_FILE, &now)) < 0)
		return r;
	if (was == NULL && r == 1)
		return 0;
	if (was != NULL && r == 0 && (now.flags & SSH_FILEXFER_ATTR_SIZE) &&
	    (was->flags & SSH_FILEXFER_ATTR_SIZE) && now.size == was->size &&
	    ((now.flags & was->flags & SSH_FILEXFER_ATTR_ACMODTIME) == 0 ||
	    now.mtime == was->mtime))
		return 0;
	cr_fail(c, "%s %s while it was being updated; nothing was changed, "
	    "try again", COPYID_FILE, was == NULL ? "appeared" : "changed");
	return FERR_FORMAT;
}

/*
 * Write the whole text to a temporary file with mode perm and rename it
 * to COPYID_FILE, which must still be as described by was (NULL: not
 * there).  *skipped is set (and 0 returned) when the temporary file
 * would not be owned like the old file (uid want_uid, -1 for any): the
 * caller appends instead.
 */
static int
cr_write_renamed(struct cr *c, const struct buf *text, uint32_t perm,
    int posix, long long want_uid, const struct sftp_attrs *was,
    int *skipped)
{
	struct cr_handle h;
	struct sftp_attrs a;
	char tmp[256];
	int r, made = 0;

	*skipped = 0;
	memset(&h, 0, sizeof(h));
	if ((r = cr_temp_name(tmp, sizeof(tmp))) != 0) {
		cr_fail(c, "temporary name: %s", err_str(r));
		return r;
	}
	memset(&a, 0, sizeof(a));
	a.flags = SSH_FILEXFER_ATTR_PERMISSIONS;
	a.perm = perm;
	if ((r = cr_open(c, tmp, SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_EXCL,
	    &a, &h)) != 0)
		goto out;
	made = 1;
	if (want_uid >= 0) {
		if ((r = cr_fstat(c, &h, tmp, &a)) != 0)
			goto out;
		if (!(a.flags & SSH_FILEXFER_ATTR_UIDGID) ||
		    (long long)a.uid != want_uid) {
			*skipped = 1;
			goto out;
		}
	}
	if ((r = cr_write_all(c, &h, tmp, 0, buf_ptr(text),
	    buf_len(text))) != 0 ||
	    (r = cr_fsync(c, &h, tmp)) != 0)
		goto out;
	r = cr_close(c, &h, tmp);
	/* The server's umask may have taken bits: set the mode exactly. */
	if (r == 0)
		r = cr_path_attrs(c, SSH_FXP_SETSTAT, "chmod", tmp, perm);
	if (r == 0)
		r = cr_unchanged(c, was);
	if (r == 0 && (r = cr_rename(c, tmp, COPYID_FILE, posix)) == 0)
		made = 0;
 out:
	if (h.open)
		(void)cr_close(c, &h, tmp);
	if (made)
		cr_remove_quiet(c, tmp);
	return r;
}

/* Append the new lines to the existing file, which must be unchanged. */
static int
cr_write_appended(struct cr *c, const struct copyid_plan *plan)
{
	struct cr_handle h;
	struct sftp_attrs a;
	int r, r2;

	memset(&h, 0, sizeof(h));
	if ((r = cr_open(c, COPYID_FILE, SSH_FXF_WRITE | SSH_FXF_APPEND, NULL,
	    &h)) != 0)
		return r;
	if ((r = cr_fstat(c, &h, COPYID_FILE, &a)) != 0)
		goto out;
	if (!(a.flags & SSH_FILEXFER_ATTR_SIZE) || a.size != plan->keep) {
		cr_fail(c, "%s changed while it was being updated; nothing "
		    "was written, try again", COPYID_FILE);
		r = FERR_FORMAT;
		goto out;
	}
	if ((r = cr_write_all(c, &h, COPYID_FILE, plan->keep,
	    buf_ptr(plan->text) + plan->keep,
	    buf_len(plan->text) - plan->keep)) != 0 ||
	    (r = cr_fsync(c, &h, COPYID_FILE)) != 0)
		goto out;
 out:
	r2 = cr_close(c, &h, COPYID_FILE);
	return r != 0 ? r : r2;
}

/*
 * Read COPYID_FILE into old when it exists: *existsp, and its
 * attributes (through a link) in *a; *islinkp when it is a symbolic
 * link.
 */
static int
cr_read_file(struct cr *c, struct buf *old, int *existsp, int *islinkp,
    struct sftp_attrs *a)
{
	struct sftp_attrs la;
	struct cr_handle h;
	int r, r2;

	*existsp = *islinkp = 0;
	memset(&h, 0, sizeof(h));
	if ((r = cr_stat(c, SSH_FXP_LSTAT, COPYID_FILE, &la)) != 0)
		return r == 1 ? 0 : r;
	*existsp = 1;
	*islinkp = (la.flags & SSH_FILEXFER_ATTR_PERMISSIONS) &&
	    S_ISLNK(la.perm);
	if ((r = cr_open(c, COPYID_FILE, SSH_FXF_READ, NULL, &h)) != 0)
		return r;
	if ((r = cr_fstat(c, &h, COPYID_FILE, a)) == 0 &&
	    (!(a->flags & SSH_FILEXFER_ATTR_PERMISSIONS) ||
	    !S_ISREG(a->perm))) {
		cr_fail(c, "%s is not a regular file", COPYID_FILE);
		r = FERR_FORMAT;
	}
	if (r == 0)
		r = cr_read_all(c, &h, COPYID_FILE, old);
	r2 = cr_close(c, &h, COPYID_FILE);
	return r != 0 ? r : r2;
}

int
copyid_install(struct sftp_session *s, const struct copyid_key *keys,
    size_t nkeys, unsigned int flags, struct copyid_plan *plan,
    struct copyid_result *res)
{
	struct cr c;
	struct sftp_attrs a, fa;
	struct buf *old = NULL;
	int r, exists = 0, islink = 0, posix, skipped = 0, have_dir = 1;
	long long uid = -1;
	uint32_t perm = 0600;

	if (plan != NULL)
		memset(plan, 0, sizeof(*plan));
	if (res == NULL)
		return FERR_ARGUMENT;
	memset(res, 0, sizeof(*res));
	if (s == NULL || plan == NULL || (keys == NULL && nkeys != 0))
		return FERR_ARGUMENT;
	c.s = s;
	c.e = sftp_session_engine(s);
	c.res = res;
	memset(&fa, 0, sizeof(fa));
	if ((old = buf_new()) == NULL)
		return FERR_ALLOC;
	if ((r = cr_stat(&c, SSH_FXP_STAT, COPYID_DIR, &a)) < 0)
		goto out;
	if (r == 1)
		have_dir = 0;
	else if (!(a.flags & SSH_FILEXFER_ATTR_PERMISSIONS) ||
	    !S_ISDIR(a.perm)) {
		cr_fail(&c, "%s is not a directory", COPYID_DIR);
		r = FERR_FORMAT;
		goto out;
	}
	if (have_dir &&
	    (r = cr_read_file(&c, old, &exists, &islink, &fa)) != 0)
		goto out;
	res->existed = exists;
	if ((r = copyid_merge(buf_ptr(old), buf_len(old), keys, nkeys,
	    (flags & COPYID_FORCE) != 0, plan)) != 0) {
		cr_fail(&c, "merging keys: %s", err_str(r));
		goto out;
	}
	if (plan->nadd == 0 || (flags & COPYID_DRY_RUN))
		goto out;
	if (!have_dir) {
		if ((r = cr_path_attrs(&c, SSH_FXP_MKDIR, "mkdir", COPYID_DIR,
		    0700)) != 0)
			goto out;
		res->made_dir = 1;
	}
	posix = sftp_client_has_ext(c.e, CR_EXT_POSIX_RENAME, "1", NULL);
	if (exists) {
		perm = fa.perm & 07777;
		if (fa.flags & SSH_FILEXFER_ATTR_UIDGID)
			uid = fa.uid;
		/* Without uid we cannot tell who would own the new file. */
		skipped = islink || !posix || uid < 0;
	}
	if (!skipped) {
		r = cr_write_renamed(&c, plan->text, perm, posix, uid,
		    exists ? &fa : NULL, &skipped);
		/*
		 * The server refused the temporary file or the rename (a
		 * read-only .ssh with a writable file, say): the old file
		 * is untouched, so appending is still safe.
		 */
		if (r == FERR_PERMISSION && exists) {
			memset(res->msg, 0, sizeof(res->msg));
			skipped = 1;
			r = 0;
		}
		if (r != 0)
			goto out;
		if (!skipped)
			res->how = exists ? COPYID_REPLACED : COPYID_CREATED;
	}
	if (skipped) {
		if ((r = cr_write_appended(&c, plan)) != 0)
			goto out;
		res->how = COPYID_APPENDED;
	}
 out:
	buf_free(old);
	return r;
}
