/*
 * Uploads without a copy (lib/sftp-client.c, sftp_client_write_fd): the
 * WRITE's file data is read only when the output is copied out.  Checks:
 * refused unless the sender allowed it; copied out in odd pieces (and
 * filled in place) the output equals the same requests built with
 * sftp_client_write(); the data is read at send time, not at queue time;
 * a file that yields fewer bytes than promised sends zeros and turns the
 * server's OK into SSH_FX_FAILURE; an aborted or never-sent request
 * leaks no descriptor.
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
#include "ferry/sftp.h"
#include "ferry/sftp-client.h"
#include "tap.h"

#define DATA_LEN	70000U

static char path[64];
static uint8_t data[DATA_LEN];

static const uint8_t handle[] = { 'h', '1' };

static int
reply_cb(void *arg, const struct sftp_client_reply *rep)
{
	struct sftp_client_reply *out = arg;

	out->type = rep->type;
	out->status = rep->status;
	return 0;
}

/* The open descriptors of this process. */
static int
count_fds(void)
{
	int fd, n = 0;

	for (fd = 0; fd < 256; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

static int
write_data(size_t len)
{
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Output of c after INIT (consumed), as a reference engine builds it. */
static struct sftp_client *
new_engine(int deferred)
{
	struct sftp_client *c = sftp_client_new();

	if (c == NULL)
		return NULL;
	sftp_client_allow_deferred(c, deferred);
	if (buf_consume(sftp_client_output(c), 9) != 0) {
		sftp_client_free(c);
		return NULL;
	}
	return c;
}

/* Two WRITEs with a STAT between, both ways; compared byte by byte. */
static void
test_same_bytes(void)
{
	struct sftp_client *ref, *c;
	struct buf *ro, *co;
	uint8_t *p, *got;
	size_t len, at, piece;
	int fd, r, same, fill;

	for (fill = 0; fill < 2; fill++) {
		ref = new_engine(0);
		c = new_engine(1);
		fd = write_data(DATA_LEN);
		if (ref == NULL || c == NULL || fd < 0) {
			ok(0, "setup");
			return;
		}
		r = sftp_client_write(ref, handle, 2, 5, 40000, &p, NULL,
		    NULL);
		if (r == 0)
			memcpy(p, data + 100, 40000);
		r |= sftp_client_path(ref, SSH_FXP_STAT, "/x", NULL, NULL);
		r |= sftp_client_write(ref, handle, 2, 40005, 29000, &p, NULL,
		    NULL);
		if (r == 0)
			memcpy(p, data + 40100, 29000);
		ok(r == 0, "reference requests built");
		r = sftp_client_write_fd(c, handle, 2, 5, 40000, fd, 100,
		    NULL, NULL);
		r |= sftp_client_path(c, SSH_FXP_STAT, "/x", NULL, NULL);
		r |= sftp_client_write_fd(c, handle, 2, 40005, 29000, fd,
		    40100, NULL, NULL);
		ok(r == 0, "deferred requests built");
		close(fd);
		ro = sftp_client_output(ref);
		co = sftp_client_output(c);
		len = buf_len(co);
		is_int((int)len, (int)buf_len(ro), "same output length");
		if ((got = malloc(len)) == NULL)
			return;
		if (fill) {
			/* In place, in two steps, as the pipe pump does. */
			r = sftp_client_output_fill(c, 20000);
			r |= buf_consume(co, 7);
			r |= sftp_client_output_fill(c, len);
			memcpy(got, buf_ptr(co), len - 7);
			memmove(got + 7, got, len - 7);
			memcpy(got, buf_ptr(ro), 7);
		} else {
			/* Odd pieces, as channel packets cut the stream. */
			r = 0;
			for (at = 0, piece = 1; at < len; at += piece,
			    piece = piece * 7 + 3) {
				if (piece > len - at)
					piece = len - at;
				r |= sftp_client_output_copy(c, got + at,
				    piece);
				r |= buf_consume(co, piece);
			}
		}
		same = r == 0 && memcmp(got, buf_ptr(ro), len) == 0;
		ok(same, "%s: the same bytes as sftp_client_write's",
		    fill ? "filled in place" : "copied in pieces");
		free(got);
		sftp_client_free(ref);
		sftp_client_free(c);
	}
}

/* Data is read when sent; a short file sends zeros and fails. */
static void
test_read_late_and_short(void)
{
	struct sftp_client_reply rep;
	struct sftp_client *c;
	struct buf *co, *in;
	uint8_t *got, newer[16];
	size_t len;
	int fd, r, fds;

	fds = count_fds();
	c = new_engine(0);
	fd = write_data(1000);
	if (c == NULL || fd < 0) {
		ok(0, "setup");
		return;
	}
	is_int(sftp_client_write_fd(c, handle, 2, 0, 16, fd, 0, NULL, NULL),
	    FERR_ARGUMENT, "refused unless the sender allowed it");
	sftp_client_free(c);

	c = new_engine(1);
	memset(&rep, 0, sizeof(rep));
	r = sftp_client_write_fd(c, handle, 2, 0, 16, fd, 0, reply_cb, &rep);
	ok(r == 0, "queued");
	/* The file changes after the request was queued. */
	memset(newer, 0xa5, sizeof(newer));
	ok(pwrite(fd, newer, sizeof(newer), 0) == sizeof(newer),
	    "file rewritten");
	co = sftp_client_output(c);
	len = buf_len(co);
	got = malloc(len);
	r = got == NULL ? -1 : sftp_client_output_copy(c, got, len);
	ok(r == 0 && memcmp(got + len - 16, newer, 16) == 0,
	    "the data was read when sent");
	free(got);
	r = buf_consume(co, len);

	/* Promise 40 bytes of a 20-byte file. */
	if (ftruncate(fd, 20) != 0)
		ok(0, "ftruncate");
	r = sftp_client_write_fd(c, handle, 2, 0, 40, fd, 0, reply_cb, &rep);
	len = buf_len(co);
	got = malloc(len);
	r |= got == NULL ? -1 : sftp_client_output_copy(c, got, len);
	ok(r == 0 && memcmp(got + len - 40, newer, 16) == 0 &&
	    got[len - 21] == data[19] && got[len - 20] == 0 &&
	    got[len - 1] == 0, "a short file: its bytes, then zeros");
	free(got);
	r = buf_consume(co, len);
	close(fd);
	/* The server says OK to both WRITEs (ids 1 and 2). */
	if ((in = buf_new()) == NULL)
		return;
	r = buf_put_u8(in, SSH_FXP_VERSION) | buf_put_u32(in, 3);
	r |= sftp_client_input(c, (const uint8_t *)"\0\0\0\5", 4);
	r |= sftp_client_input(c, buf_ptr(in), buf_len(in));
	ok(r == 0 && sftp_client_ready(c), "VERSION taken");
	buf_reset(in);
	r = buf_put_u32(in, 9) | buf_put_u8(in, SSH_FXP_STATUS) |
	    buf_put_u32(in, 1) | buf_put_u32(in, SSH_FX_OK) |
	    buf_put_u32(in, 9) | buf_put_u8(in, SSH_FXP_STATUS) |
	    buf_put_u32(in, 2) | buf_put_u32(in, SSH_FX_OK);
	memset(&rep, 0, sizeof(rep));
	r |= sftp_client_input(c, buf_ptr(in), 13);
	ok(r == 0 && rep.type == SSH_FXP_STATUS && rep.status == SSH_FX_OK,
	    "the full WRITE: the server's OK");
	memset(&rep, 0, sizeof(rep));
	r = sftp_client_input(c, buf_ptr(in) + 13, 13);
	ok(r == 0 && rep.type == SSH_FXP_STATUS &&
	    rep.status == SSH_FX_FAILURE, "the short WRITE: SSH_FX_FAILURE "
	    "despite the server's OK");
	buf_free(in);

	/* Queued and aborted or never sent: the duplicates are closed. */
	fd = write_data(100);
	r = sftp_client_write_fd(c, handle, 2, 0, 50, fd, 0, NULL, NULL);
	close(fd);
	sftp_client_free(c);
	is_int(count_fds(), fds, "no descriptor left behind");
	ok(r == 0, "queued before the end");
}

int
main(void)
{
	size_t i;

	for (i = 0; i < DATA_LEN; i++)
		data[i] = (uint8_t)(i * 131 + i / 256);
	snprintf(path, sizeof(path), "/tmp/ferry-deferred-%ld",
	    (long)getpid());
	test_same_bytes();
	test_read_late_and_short();
	unlink(path);
	return tap_done();
}
