/*
 * Fuzz target for the SFTP client engine's reply stream: a transfer set
 * downloads a file, a tree and uploads a small file while the input plays
 * the server (VERSION, then replies in any order), fed in chunks whose
 * size comes from the first byte.  The requests the engine writes are
 * discarded; the ids the input uses are 1, 2, 3, ... as the engine hands
 * them out.  Every reply must either be accepted or end the session; the
 * local side only ever writes under the fuzzing directory.
 */
#define _GNU_SOURCE
#include "config.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/log.h"
#include "ferry/sftp.h"
#include "ferry/sftp-client.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[64];

static int
fuzz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level > 0)
		(void)remove(path);
	return 0;
}

static void
fuzz_cleanup(void)
{
	nftw(fuzz_dir, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
	rmdir(fuzz_dir);
}

static void
fuzz_init(void)
{
	char tmpl[] = "/tmp/fuzz-sftp-client.XXXXXX";
	char p[128];
	int fd;

	if (mkdtemp(tmpl) == NULL)
		fuzz_abort();
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s", tmpl);
	snprintf(p, sizeof(p), "%s/up", fuzz_dir);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		fuzz_abort();
	if (write(fd, "0123456789", 10) != 10)
		fuzz_abort();
	close(fd);
	atexit(fuzz_cleanup);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sftp_xfer_opts o;
	struct sftp_client *c;
	struct sftp_xfer *x;
	char lp[128], lp2[160], tp[128], up[128];
	size_t chunk, n;
	int rounds = 0;

	if (fuzz_dir[0] == '\0')
		fuzz_init();
	if (size < 1)
		return 0;
	log_set_handler(NULL, NULL);
	chunk = (size_t)data[0] * 13 + 1;
	memset(&o, 0, sizeof(o));
	o.flags = SFTP_XFER_RECURSE | ((data[0] & 1) ? SFTP_XFER_RESUME : 0) |
	    ((data[0] & 2) ? SFTP_XFER_VERIFY : 0);
	o.max_files = 4;
	data++;
	size--;
	if ((c = sftp_client_new()) == NULL)
		fuzz_abort();
	snprintf(lp, sizeof(lp), "%s/get", fuzz_dir);
	snprintf(tp, sizeof(tp), "%s/tree", fuzz_dir);
	snprintf(up, sizeof(up), "%s/up", fuzz_dir);
	snprintf(lp2, sizeof(lp2), "%s%s", lp, SFTP_XFER_PART_SUFFIX);
	x = NULL;
	while (size > 0 && sftp_client_error(c) == 0 && rounds++ < 10000) {
		if (sftp_client_ready(c) && x == NULL) {
			if ((x = sftp_xfer_new(c, &o)) == NULL ||
			    sftp_xfer_get(x, "f", lp) != 0 ||
			    sftp_xfer_get(x, "d", tp) != 0 ||
			    sftp_xfer_put(x, up, "u") != 0)
				fuzz_abort();
		}
		if (x != NULL && sftp_xfer_step(x) != 0)
			break;
		buf_reset(sftp_client_output(c));
		n = size < chunk ? size : chunk;
		if (sftp_client_input(c, data, n) != 0 &&
		    sftp_client_error(c) == 0)
			break;
		data += n;
		size -= n;
	}
	sftp_client_eof(c);
	if (x != NULL && sftp_xfer_step(x) == 0)
		fuzz_abort();	/* the session is over: step must say so */
	sftp_client_free(c);
	sftp_xfer_free(x);
	/* Remove what the run created; the upload source stays. */
	(void)remove(lp);
	(void)remove(lp2);
	if (access(tp, F_OK) == 0) {
		nftw(tp, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
		(void)rmdir(tp);
	}
	return 0;
}
