/*
 * The SFTP client engine: request ids, reply parsing and dispatch, and
 * the checks that end a session with a server that breaks the protocol.
 * See ferry/sftp-client.h for the contract.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sftp.h"
#include "ferry/sftp-client.h"

/* Most extensions kept from VERSION (more are ignored). */
#define CLIENT_MAX_EXTS		64
/* Size of the id table: a power of two, SFTP_CLIENT_MAX_INFLIGHT. */
#define CLIENT_SLOTS		SFTP_CLIENT_MAX_INFLIGHT

#define RT(t)			(1U << ((t) - SSH_FXP_STATUS))
#define RT_STATUS		RT(SSH_FXP_STATUS)
#define RT_HANDLE		RT(SSH_FXP_HANDLE)
#define RT_DATA			RT(SSH_FXP_DATA)
#define RT_NAME			RT(SSH_FXP_NAME)
#define RT_ATTRS		RT(SSH_FXP_ATTRS)
#define RT_EXT			(1U << 8)

struct client_slot {
	int used;
	int bad_data;		/* WRITE whose file read came up short */
	uint32_t id;
	uint8_t type;
	uint32_t maxdata;
	sftp_client_cb *cb;
	void *arg;
};

/*
 * File data of a WRITE not yet read (sftp_client_write_fd): len bytes of
 * the output stream at stream offset pos come from fd (a duplicate the
 * segment owns) at foff when the output is copied out.
 */
struct client_seg {
	uint64_t pos;
	uint32_t len;
	uint32_t id;
	int fd;
	uint64_t foff;
};

struct client_ext {
	char *name;
	char *data;		/* NUL-terminated copy of the data string */
	size_t datalen;		/* its length, which may hold NULs */
};

struct sftp_client {
	struct buf *in;
	struct buf *out;
	uint32_t version;
	int ready;
	int error;
	char errmsg[256];
	struct client_ext exts[CLIENT_MAX_EXTS];
	unsigned int nexts;
	struct client_slot *slots;
	unsigned int inflight;
	uint32_t next_id;
	/* The request being built by begin/end. */
	int building;
	size_t build_off;
	uint8_t build_type;
	uint64_t lim_read, lim_write, lim_handles;
	/* Stream offset of the end of the last complete message. */
	uint64_t out_total;
	/* Deferred file data, in stream order: segs[seghead, nseg). */
	struct client_seg *segs;
	size_t nseg, seghead, segcap;
	int seg_pending;	/* the request being built has a segment */
	int defer_ok;		/* the sender copies with output_copy/fill */
};

/* Which replies each request may get. */
static const struct {
	uint8_t type;
	unsigned int replies;
} client_replies[] = {
	{ SSH_FXP_OPEN, RT_HANDLE | RT_STATUS },
	{ SSH_FXP_CLOSE, RT_STATUS },
	{ SSH_FXP_READ, RT_DATA | RT_STATUS },
	{ SSH_FXP_WRITE, RT_STATUS },
	{ SSH_FXP_LSTAT, RT_ATTRS | RT_STATUS },
	{ SSH_FXP_FSTAT, RT_ATTRS | RT_STATUS },
	{ SSH_FXP_SETSTAT, RT_STATUS },
	{ SSH_FXP_FSETSTAT, RT_STATUS },
	{ SSH_FXP_OPENDIR, RT_HANDLE | RT_STATUS },
	{ SSH_FXP_READDIR, RT_NAME | RT_STATUS },
	{ SSH_FXP_REMOVE, RT_STATUS },
	{ SSH_FXP_MKDIR, RT_STATUS },
	{ SSH_FXP_RMDIR, RT_STATUS },
	{ SSH_FXP_REALPATH, RT_NAME | RT_STATUS },
	{ SSH_FXP_STAT, RT_ATTRS | RT_STATUS },
	{ SSH_FXP_RENAME, RT_STATUS },
	{ SSH_FXP_READLINK, RT_NAME | RT_STATUS },
	{ SSH_FXP_SYMLINK, RT_STATUS },
	{ SSH_FXP_EXTENDED, RT_STATUS | RT_EXT | RT_NAME },
};

static unsigned int
client_allowed(uint8_t req)
{
	size_t i;

	for (i = 0; i < sizeof(client_replies) / sizeof(client_replies[0]);
	    i++)
		if (client_replies[i].type == req)
			return client_replies[i].replies;
	return 0;
}

static unsigned int
client_rt(uint8_t reply)
{
	if (reply == SSH_FXP_EXTENDED_REPLY)
		return RT_EXT;
	if (reply >= SSH_FXP_STATUS && reply <= SSH_FXP_ATTRS)
		return RT(reply);
	return 0;
}

/* End the session; the message is kept for the user (sanitised). */
static int
client_fail(struct sftp_client *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
client_fail(struct sftp_client *c, int code, const char *fmt, ...)
{
	va_list ap;

	if (c->error == 0) {
		c->error = code;
		va_start(ap, fmt);
		vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
		va_end(ap);
		/* A closed connection is the caller's to report. */
		log_msg(code == FERR_CONN_CLOSED ? LOGL_DEBUG1 : LOGL_ERROR,
		    "sftp: %s", c->errmsg);
	}
	return code;
}

struct sftp_client *
sftp_client_new(void)
{
	struct sftp_client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->next_id = 1;
	if ((c->in = buf_new()) == NULL || (c->out = buf_new()) == NULL ||
	    (c->slots = calloc(CLIENT_SLOTS, sizeof(*c->slots))) == NULL ||
	    buf_put_u32(c->out, 5) != 0 ||
	    buf_put_u8(c->out, SSH_FXP_INIT) != 0 ||
	    buf_put_u32(c->out, SFTP_VERSION) != 0) {
		sftp_client_free(c);
		return NULL;
	}
	c->out_total = buf_len(c->out);
	return c;
}

void
sftp_client_free(struct sftp_client *c)
{
	unsigned int i;
	size_t k;

	if (c == NULL)
		return;
	for (k = c->seghead; k < c->nseg; k++)
		close(c->segs[k].fd);
	free(c->segs);
	for (i = 0; i < c->nexts; i++) {
		free(c->exts[i].name);
		free(c->exts[i].data);
	}
	buf_free(c->in);
	buf_free(c->out);
	free(c->slots);
	free(c);
}

struct buf *
sftp_client_output(struct sftp_client *c)
{
	return c->out;
}

int
sftp_client_ready(const struct sftp_client *c)
{
	return c->ready;
}

int
sftp_client_error(const struct sftp_client *c)
{
	return c->error;
}

const char *
sftp_client_error_msg(const struct sftp_client *c)
{
	return c->error == 0 ? "" : c->errmsg;
}

unsigned int
sftp_client_inflight(const struct sftp_client *c)
{
	return c->inflight;
}

uint32_t
sftp_client_version(const struct sftp_client *c)
{
	return c->version;
}

int
sftp_client_has_ext(const struct sftp_client *c, const char *name,
    const char *ver, const char **datap)
{
	unsigned int i;

	for (i = 0; i < c->nexts; i++) {
		if (strcmp(c->exts[i].name, name) != 0)
			continue;
		if (ver != NULL && (c->exts[i].datalen < strlen(ver) ||
		    memcmp(c->exts[i].data, ver, strlen(ver)) != 0))
			continue;
		if (datap != NULL)
			*datap = c->exts[i].data;
		return 1;
	}
	return 0;
}

int
sftp_client_has_checkfile(const struct sftp_client *c, const char *which)
{
	const char *data;

	return sftp_client_has_ext(c, which, NULL, &data) &&
	    strstr(data, "sha256") != NULL;
}

int
sftp_client_begin_checkfile(struct sftp_client *c, const uint8_t *h,
    size_t hlen, const char *path, uint64_t start, uint64_t len)
{
	struct buf *b;
	int r;

	if ((r = sftp_client_begin(c, SSH_FXP_EXTENDED, h != NULL ?
	    "check-file-handle" : "check-file-name", &b)) != 0)
		return r;
	if ((h != NULL ? (r = buf_put_string(b, h, hlen)) :
	    (r = buf_put_cstring(b, path))) != 0 ||
	    (r = buf_put_cstring(b, "sha256")) != 0 ||
	    (r = buf_put_u64(b, start)) != 0 ||
	    (r = buf_put_u64(b, len)) != 0 ||
	    (r = buf_put_u32(b, 0)) != 0) {
		sftp_client_abort(c);
		return r;
	}
	return 0;
}

int
sftp_client_checkfile_digest(const uint8_t *data, size_t len,
    uint8_t out[SFTP_CHECKFILE_SHA256_LEN])
{
	struct buf *b;
	const uint8_t *alg;
	size_t alen;
	int r;

	if ((b = buf_from(data, len)) == NULL)
		return FERR_ALLOC;
	if ((r = buf_get_string_direct(b, &alg, &alen)) == 0 &&
	    (alen != 6 || memcmp(alg, "sha256", 6) != 0))
		r = FERR_FORMAT;
	if (r == 0 && (r = buf_get(b, out, SFTP_CHECKFILE_SHA256_LEN)) == 0)
		r = buf_expect_end(b);
	buf_free(b);
	return r != 0 && r != FERR_ALLOC ? FERR_FORMAT : r;
}

size_t
sftp_client_rw_size(const struct sftp_client *c)
{
	uint64_t v = SFTP_CLIENT_DEFAULT_RW;

	if (c->lim_read != 0 || c->lim_write != 0) {
		v = SFTP_MAX_RW;
		if (c->lim_read != 0 && c->lim_read < v)
			v = c->lim_read;
		if (c->lim_write != 0 && c->lim_write < v)
			v = c->lim_write;
		if (v < 512)
			v = 512;
	}
	return (size_t)v;
}

uint64_t
sftp_client_max_handles(const struct sftp_client *c)
{
	return c->lim_handles;
}

int
sftp_client_set_limits(struct sftp_client *c, const uint8_t *data,
    size_t len)
{
	struct buf *b;
	uint64_t msg, rd, wr, h;
	int r;

	if ((b = buf_from(data, len)) == NULL)
		return FERR_ALLOC;
	if ((r = buf_get_u64(b, &msg)) != 0 ||
	    (r = buf_get_u64(b, &rd)) != 0 ||
	    (r = buf_get_u64(b, &wr)) != 0 ||
	    (r = buf_get_u64(b, &h)) != 0 ||
	    (r = buf_expect_end(b)) != 0)
		goto out;
	/* "No limit" still means our own cap; none means OpenSSH's 255K. */
	c->lim_read = rd == 0 ? SFTP_MAX_RW : rd;
	c->lim_write = wr == 0 ? SFTP_MAX_RW : wr;
	c->lim_handles = h;
 out:
	buf_free(b);
	return r;
}

/* ---- Requests ---- */

/* Drop the bytes of the request being built (cannot fail: it shrinks). */
static void
client_unbuild(struct sftp_client *c)
{
	if (buf_consume_end(c->out, buf_len(c->out) - c->build_off) != 0)
		buf_reset(c->out);
}

int
sftp_client_begin(struct sftp_client *c, uint8_t type, const char *ext,
    struct buf **bp)
{
	uint32_t id;
	int r;

	if (c->error != 0)
		return FERR_CONN_CLOSED;
	if (c->building || client_allowed(type) == 0)
		return FERR_ARGUMENT;
	if (c->inflight >= CLIENT_SLOTS)
		return FERR_NO_SPACE;
	/* A free slot's id: ids of long-pending requests are skipped. */
	for (id = c->next_id; c->slots[id & (CLIENT_SLOTS - 1)].used; id++)
		;
	c->next_id = id;
	c->build_off = buf_len(c->out);
	c->build_type = type;
	if ((r = buf_put_u32(c->out, 0)) != 0 ||
	    (r = buf_put_u8(c->out, type)) != 0 ||
	    (r = buf_put_u32(c->out, id)) != 0 ||
	    (ext != NULL && (r = buf_put_cstring(c->out, ext)) != 0)) {
		client_unbuild(c);
		return r;
	}
	c->building = 1;
	*bp = c->out;
	return 0;
}

void
sftp_client_abort(struct sftp_client *c)
{
	if (!c->building)
		return;
	client_unbuild(c);
	c->building = 0;
	if (c->seg_pending) {
		close(c->segs[--c->nseg].fd);
		c->seg_pending = 0;
	}
}

int
sftp_client_end(struct sftp_client *c, uint32_t maxdata, sftp_client_cb *cb,
    void *arg, uint32_t *idp)
{
	struct client_slot *s;
	size_t len;
	uint32_t id = c->next_id;
	int r;

	if (!c->building)
		return FERR_ARGUMENT;
	len = buf_len(c->out) - c->build_off - 4;
	if (len > SFTP_MAX_MSG) {
		sftp_client_abort(c);
		return FERR_STRING_TOO_LARGE;
	}
	if ((r = buf_poke_u32(c->out, c->build_off, (uint32_t)len)) != 0) {
		sftp_client_abort(c);
		return r;
	}
	c->building = 0;
	c->seg_pending = 0;
	c->out_total += len + 4;
	s = &c->slots[id & (CLIENT_SLOTS - 1)];
	s->used = 1;
	s->id = id;
	s->type = c->build_type;
	s->maxdata = maxdata;
	s->cb = cb;
	s->arg = arg;
	c->inflight++;
	c->next_id = id + 1;
	if (idp != NULL)
		*idp = id;
	return 0;
}

int
sftp_client_path(struct sftp_client *c, uint8_t type, const char *path,
    sftp_client_cb *cb, void *arg)
{
	struct buf *b;
	int r;

	if ((r = sftp_client_begin(c, type, NULL, &b)) != 0)
		return r;
	if ((r = buf_put_cstring(b, path)) != 0) {
		sftp_client_abort(c);
		return r;
	}
	return sftp_client_end(c, 0, cb, arg, NULL);
}

int
sftp_client_handle(struct sftp_client *c, uint8_t type, const uint8_t *h,
    size_t hlen, sftp_client_cb *cb, void *arg)
{
	struct buf *b;
	int r;

	if ((r = sftp_client_begin(c, type, NULL, &b)) != 0)
		return r;
	if ((r = buf_put_string(b, h, hlen)) != 0) {
		sftp_client_abort(c);
		return r;
	}
	return sftp_client_end(c, 0, cb, arg, NULL);
}

int
sftp_client_open(struct sftp_client *c, const char *path, uint32_t pflags,
    const struct sftp_attrs *a, sftp_client_cb *cb, void *arg)
{
	struct sftp_attrs none;
	struct buf *b;
	int r;

	memset(&none, 0, sizeof(none));
	if ((r = sftp_client_begin(c, SSH_FXP_OPEN, NULL, &b)) != 0)
		return r;
	if ((r = buf_put_cstring(b, path)) != 0 ||
	    (r = buf_put_u32(b, pflags)) != 0 ||
	    (r = sftp_attrs_put(b, a == NULL ? &none : a)) != 0) {
		sftp_client_abort(c);
		return r;
	}
	return sftp_client_end(c, 0, cb, arg, NULL);
}

int
sftp_client_read(struct sftp_client *c, const uint8_t *h, size_t hlen,
    uint64_t off, uint32_t len, sftp_client_cb *cb, void *arg)
{
	struct buf *b;
	int r;

	if ((r = sftp_client_begin(c, SSH_FXP_READ, NULL, &b)) != 0)
		return r;
	if ((r = buf_put_string(b, h, hlen)) != 0 ||
	    (r = buf_put_u64(b, off)) != 0 ||
	    (r = buf_put_u32(b, len)) != 0) {
		sftp_client_abort(c);
		return r;
	}
	return sftp_client_end(c, len, cb, arg, NULL);
}

int
sftp_client_write(struct sftp_client *c, const uint8_t *h, size_t hlen,
    uint64_t off, uint32_t len, uint8_t **datap, sftp_client_cb *cb,
    void *arg)
{
	struct buf *b;
	int r;

	if ((r = sftp_client_begin(c, SSH_FXP_WRITE, NULL, &b)) != 0)
		return r;
	if ((r = buf_put_string(b, h, hlen)) != 0 ||
	    (r = buf_put_u64(b, off)) != 0 ||
	    (r = buf_put_u32(b, len)) != 0 ||
	    (r = buf_reserve(b, len, datap)) != 0) {
		sftp_client_abort(c);
		return r;
	}
	return sftp_client_end(c, 0, cb, arg, NULL);
}

/* Room for one more segment (compacting the consumed ones first). */
static int
client_seg_room(struct sftp_client *c)
{
	struct client_seg *n;
	size_t cap;

	if (c->seghead > 0 && c->nseg == c->segcap) {
		memmove(c->segs, c->segs + c->seghead,
		    (c->nseg - c->seghead) * sizeof(*c->segs));
		c->nseg -= c->seghead;
		c->seghead = 0;
	}
	if (c->nseg < c->segcap)
		return 0;
	cap = c->segcap == 0 ? 64 : c->segcap * 2;
	if ((n = reallocarray(c->segs, cap, sizeof(*n))) == NULL)
		return FERR_ALLOC;
	c->segs = n;
	c->segcap = cap;
	return 0;
}

int
sftp_client_write_fd(struct sftp_client *c, const uint8_t *h, size_t hlen,
    uint64_t off, uint32_t len, int fd, uint64_t foff, sftp_client_cb *cb,
    void *arg)
{
	struct client_seg *g;
	struct buf *b;
	uint8_t *dp;
	int r, dfd;

	if (!c->defer_ok)
		return FERR_ARGUMENT;
	if ((r = client_seg_room(c)) != 0)
		return r;
	if ((dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)
		return FERR_SYSTEM;
	if ((r = sftp_client_begin(c, SSH_FXP_WRITE, NULL, &b)) != 0) {
		close(dfd);
		return r;
	}
	g = &c->segs[c->nseg++];
	c->seg_pending = 1;
	g->fd = dfd;
	g->len = len;
	g->foff = foff;
	g->id = c->next_id;
	if ((r = buf_put_string(b, h, hlen)) != 0 ||
	    (r = buf_put_u64(b, off)) != 0 ||
	    (r = buf_put_u32(b, len)) != 0) {
		sftp_client_abort(c);
		return r;
	}
	/* Stream offset of the data: what precedes it in the output. */
	g->pos = c->out_total + (buf_len(b) - c->build_off);
	/* The room is kept in the output; the bytes are read when sent. */
	if ((r = buf_reserve(b, len, &dp)) != 0) {
		sftp_client_abort(c);
		return r;
	}
	return sftp_client_end(c, 0, cb, arg, NULL);
}

/* A segment's file data could not all be read: its WRITE fails. */
static void
client_seg_short(struct sftp_client *c, const struct client_seg *g)
{
	struct client_slot *s = &c->slots[g->id & (CLIENT_SLOTS - 1)];

	if (s->used && s->id == g->id)
		s->bad_data = 1;
}

/* Read part of a segment: n bytes at offset at into dst (short: zeros). */
static void
client_seg_read(struct sftp_client *c, const struct client_seg *g,
    size_t at, uint8_t *dst, size_t n)
{
	ssize_t got;
	size_t done = 0;

	while (done < n) {
		got = pread(g->fd, dst + done, n - done,
		    (off_t)(g->foff + at + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		done += (size_t)got;
	}
	if (done < n) {
		/* Shrunk or failed: the length went out, so send zeros. */
		memset(dst + done, 0, n - done);
		client_seg_short(c, g);
	}
}

int
sftp_client_output_copy(struct sftp_client *c, uint8_t *dst, size_t len)
{
	const uint8_t *src = buf_ptr(c->out);
	uint64_t front, pos, end;
	struct client_seg *g;
	size_t at, n, i;

	if (c->building || len > buf_len(c->out))
		return FERR_ARGUMENT;
	if (c->seghead == c->nseg) {
		if (dst != src)
			memcpy(dst, src, len);
		return 0;
	}
	/* Stream offset of the output's first byte. */
	front = c->out_total - buf_len(c->out);
	for (at = 0; at < len;) {
		/* Segments wholly behind the front were sent already. */
		while (c->seghead < c->nseg && c->segs[c->seghead].pos +
		    c->segs[c->seghead].len <= front + at) {
			close(c->segs[c->seghead].fd);
			c->seghead++;
		}
		pos = front + at;
		g = c->seghead < c->nseg ? &c->segs[c->seghead] : NULL;
		if (g == NULL || g->pos >= front + len) {
			if (dst != src)
				memcpy(dst + at, src + at, len - at);
			break;
		}
		if (g->pos > pos) {
			/* Message bytes before the segment's data. */
			n = (size_t)(g->pos - pos);
			if (dst != src)
				memcpy(dst + at, src + at, n);
			at += n;
			continue;
		}
		end = g->pos + g->len;
		n = (size_t)(end - pos) < len - at ? (size_t)(end - pos) :
		    len - at;
		client_seg_read(c, g, (size_t)(pos - g->pos), dst + at, n);
		at += n;
	}
	/* Segments the copy finished are done with. */
	for (i = c->seghead; i < c->nseg && c->segs[i].pos + c->segs[i].len
	    <= front + len; i = c->seghead) {
		close(c->segs[i].fd);
		c->seghead++;
	}
	return 0;
}

int
sftp_client_output_fill(struct sftp_client *c, size_t len)
{
	size_t have = buf_len(c->out);

	if (c->building)
		return FERR_ARGUMENT;
	if (len > have)
		len = have;
	if (c->seghead == c->nseg || len == 0)
		return 0;
	/* In place: the message bytes copy onto themselves. */
	return sftp_client_output_copy(c, buf_mutable_ptr(c->out), len);
}

void
sftp_client_allow_deferred(struct sftp_client *c, int on)
{
	c->defer_ok = on;
}

int
sftp_client_deferred(const struct sftp_client *c)
{
	return c->defer_ok;
}

/* ---- Replies ---- */

static int
client_version(struct sftp_client *c, struct buf *m)
{
	uint8_t type;
	char *name = NULL;
	uint8_t *data = NULL;
	size_t datalen;
	int r;

	if ((r = buf_get_u8(m, &type)) != 0 || type != SSH_FXP_VERSION)
		return client_fail(c, FERR_PROTOCOL,
		    "server did not start with VERSION");
	if ((r = buf_get_u32(m, &c->version)) != 0)
		return client_fail(c, FERR_PROTOCOL, "malformed VERSION");
	if (c->version < SFTP_VERSION)
		return client_fail(c, FERR_PROTOCOL,
		    "server speaks SFTP version %u", c->version);
	/*
	 * Extension data is a string of any bytes (draft-ietf-secsh-
	 * filexfer-02 4; AsyncSSH's vendor-id holds lengths and a uint64).
	 */
	while (buf_len(m) > 0) {
		if ((r = buf_get_cstring(m, &name, NULL)) != 0 ||
		    (r = buf_get_string(m, &data, &datalen)) != 0) {
			free(name);
			return client_fail(c, FERR_PROTOCOL,
			    "malformed VERSION extension");
		}
		if (c->nexts < CLIENT_MAX_EXTS) {
			c->exts[c->nexts].name = name;
			c->exts[c->nexts].data = (char *)data;
			c->exts[c->nexts].datalen = datalen;
			c->nexts++;
		} else {
			free(name);
			free(data);
		}
		name = NULL;
		data = NULL;
	}
	c->ready = 1;
	return 0;
}

static void
client_free_names(struct sftp_client_reply *rep)
{
	uint32_t i;

	if (rep->names == NULL)
		return;
	for (i = 0; i < rep->count; i++) {
		free(rep->names[i].filename);
		free(rep->names[i].longname);
	}
	free(rep->names);
	rep->names = NULL;
}

static int
client_parse_names(struct buf *m, struct sftp_client_reply *rep,
    int is_readdir)
{
	struct sftp_client_name *n;
	uint32_t i, count;
	int r;

	if ((r = buf_get_u32(m, &count)) != 0)
		return r;
	/* Each entry takes at least 12 bytes: two lengths and flags. */
	if (count > buf_len(m) / 12)
		return FERR_FORMAT;
	if ((rep->names = calloc(count == 0 ? 1 : count,
	    sizeof(*rep->names))) == NULL)
		return FERR_ALLOC;
	for (i = 0; i < count; i++) {
		n = &rep->names[i];
		rep->count = i + 1;
		if ((r = buf_get_cstring(m, &n->filename, NULL)) != 0 ||
		    (r = buf_get_cstring(m, &n->longname, NULL)) != 0 ||
		    (r = sftp_attrs_get(m, &n->attrs)) != 0)
			return r;
		if (is_readdir && (n->filename[0] == '\0' ||
		    strchr(n->filename, '/') != NULL))
			return FERR_PERMISSION;
	}
	rep->count = count;
	return 0;
}

/* Parse one framed reply (the type byte onward) into rep. */
static int
client_parse(struct sftp_client *c, struct buf *m,
    struct sftp_client_reply *rep, struct client_slot **slotp)
{
	struct client_slot *s;
	const uint8_t *p;
	size_t len;
	int r;

	if ((r = buf_get_u8(m, &rep->type)) != 0 ||
	    (r = buf_get_u32(m, &rep->id)) != 0)
		return client_fail(c, FERR_PROTOCOL, "truncated reply");
	s = &c->slots[rep->id & (CLIENT_SLOTS - 1)];
	if (!s->used || s->id != rep->id)
		return client_fail(c, FERR_PROTOCOL,
		    "reply to unknown or answered request id %u", rep->id);
	if ((client_allowed(s->type) & client_rt(rep->type)) == 0)
		return client_fail(c, FERR_PROTOCOL,
		    "unexpected reply type %u to request type %u", rep->type,
		    s->type);
	*slotp = s;
	switch (rep->type) {
	case SSH_FXP_STATUS:
		if ((r = buf_get_u32(m, &rep->status)) != 0)
			break;
		/* Message and language tag are optional (SFTP v3 servers). */
		if (buf_len(m) > 0) {
			if ((r = buf_get_string_direct(m, &p, &len)) != 0 ||
			    (r = buf_get_string_direct(m, NULL, NULL)) != 0)
				break;
			if (memchr(p, '\0', len) != NULL) {
				r = FERR_FORMAT;
				break;
			}
			/* Safe: the message lives in the frame; copy it. */
			rep->errmsg = strndup((const char *)p, len);
			if (rep->errmsg == NULL)
				return FERR_ALLOC;
		}
		r = buf_expect_end(m);
		break;
	case SSH_FXP_HANDLE:
		if ((r = buf_get_string_direct(m, &rep->data,
		    &rep->len)) != 0 || (r = buf_expect_end(m)) != 0)
			break;
		if (rep->len == 0 || rep->len > 256)
			r = FERR_FORMAT;
		break;
	case SSH_FXP_DATA:
		if ((r = buf_get_string_direct(m, &rep->data,
		    &rep->len)) != 0 || (r = buf_expect_end(m)) != 0)
			break;
		if (rep->len > s->maxdata)
			return client_fail(c, FERR_PROTOCOL,
			    "server sent %zu bytes for a read of %u",
			    rep->len, s->maxdata);
		break;
	case SSH_FXP_ATTRS:
		if ((r = sftp_attrs_get(m, &rep->attrs)) != 0)
			break;
		r = buf_expect_end(m);
		break;
	case SSH_FXP_NAME:
		r = client_parse_names(m, rep, s->type == SSH_FXP_READDIR);
		if (r == FERR_PERMISSION)
			return client_fail(c, FERR_PROTOCOL,
			    "server sent a directory entry that is empty or "
			    "contains '/'");
		if (r == 0)
			r = buf_expect_end(m);
		break;
	case SSH_FXP_EXTENDED_REPLY:
		rep->len = buf_len(m);
		if ((r = buf_get_direct(m, rep->len, &rep->data)) != 0)
			break;
		break;
	default:
		r = FERR_FORMAT;
		break;
	}
	if (r == FERR_ALLOC)
		return r;
	if (r != 0)
		return client_fail(c, FERR_PROTOCOL,
		    "malformed reply of type %u", rep->type);
	return 0;
}

static int
client_dispatch(struct sftp_client *c, struct buf *m)
{
	struct sftp_client_reply rep;
	struct client_slot *s = NULL, slot;
	int r;

	memset(&rep, 0, sizeof(rep));
	if ((r = client_parse(c, m, &rep, &s)) != 0)
		goto out;
	slot = *s;
	memset(s, 0, sizeof(*s));
	c->inflight--;
	if (slot.bad_data) {
		/* Zeros went where file data was missing: never "OK". */
		free((char *)rep.errmsg);
		rep.type = SSH_FXP_STATUS;
		rep.status = SSH_FX_FAILURE;
		rep.errmsg = strdup("the local file shrank or could not be "
		    "read while it was sent");
	}
	if (rep.type == SSH_FXP_STATUS && rep.errmsg == NULL)
		rep.errmsg = strdup(sftp_status_str(rep.status));
	if (rep.type == SSH_FXP_STATUS && rep.errmsg == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	r = slot.cb == NULL ? 0 : slot.cb(slot.arg, &rep);
 out:
	free((char *)rep.errmsg);
	client_free_names(&rep);
	return r;
}

int
sftp_client_input(struct sftp_client *c, const uint8_t *data, size_t len)
{
	struct buf *m = NULL;
	uint32_t mlen;
	int r;

	if (c->error != 0)
		return c->error;
	if (len > 0 && (r = buf_put(c->in, data, len)) != 0)
		return r;
	for (;;) {
		if (buf_len(c->in) < 4)
			return 0;
		if ((r = buf_peek_u32(c->in, 0, &mlen)) != 0)
			return r;
		if (mlen < 5 || mlen > SFTP_MAX_MSG)
			return client_fail(c, FERR_PROTOCOL,
			    "bad message length %u", mlen);
		if (buf_len(c->in) - 4 < mlen)
			return 0;
		if ((r = buf_froms(c->in, &m)) != 0)
			return r;
		r = c->ready ? client_dispatch(c, m) : client_version(c, m);
		buf_free(m);
		m = NULL;
		if (r != 0)
			return r;
		if (buf_len(c->in) == 0)
			buf_reset(c->in);
	}
}

void
sftp_client_eof(struct sftp_client *c)
{
	struct sftp_client_reply rep;
	struct client_slot s;
	unsigned int i;

	if (c->error == 0)
		(void)client_fail(c, FERR_CONN_CLOSED,
		    "connection closed by the server");
	buf_reset(c->in);
	/* Tell every waiter its request is lost. */
	for (i = 0; i < CLIENT_SLOTS && c->inflight > 0; i++) {
		if (!c->slots[i].used)
			continue;
		s = c->slots[i];
		memset(&c->slots[i], 0, sizeof(c->slots[i]));
		c->inflight--;
		memset(&rep, 0, sizeof(rep));
		rep.type = SSH_FXP_STATUS;
		rep.id = s.id;
		rep.status = SSH_FX_CONNECTION_LOST;
		rep.errmsg = sftp_status_str(SSH_FX_CONNECTION_LOST);
		if (s.cb != NULL)
			(void)s.cb(s.arg, &rep);
	}
}

int
sftp_client_status_errno(uint32_t status)
{
	static const int map[] = {
		[SSH_FX_OK] = 0,
		[SSH_FX_EOF] = 0,
		[SSH_FX_NO_SUCH_FILE] = ENOENT,
		[SSH_FX_PERMISSION_DENIED] = EACCES,
		[SSH_FX_FAILURE] = EIO,
		[SSH_FX_BAD_MESSAGE] = EBADMSG,
		[SSH_FX_NO_CONNECTION] = ENOTCONN,
		[SSH_FX_CONNECTION_LOST] = ECONNRESET,
		[SSH_FX_OP_UNSUPPORTED] = EOPNOTSUPP,
	};

	if (status >= sizeof(map) / sizeof(map[0]))
		return EIO;
	return map[status];
}

char *
sftp_client_vis(const char *s)
{
	size_t i, n = strlen(s), o = 0;
	unsigned char ch;
	char *v;

	if (n > (SIZE_MAX - 1) / 4 || (v = malloc(n * 4 + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f) {
			snprintf(v + o, 5, "\\%03o", ch);
			o += 4;
		} else
			v[o++] = (char)ch;
	}
	v[o] = '\0';
	return v;
}
