/*
 * Fuzz target for the SFTP server engine: the input is a raw stream of
 * SFTP requests (after an INIT the harness sends) fed to an engine that
 * serves a temporary root, in chunks whose sizes come from the input,
 * with the output drained as a driver would.
 *
 * Byte 0 chooses the configuration: bit 0 read-only (then copy-data and
 * check-file are allowed: only the small seeded files exist), bit 1 the
 * user-space path walk instead of openat2, bits 2-7 the chunk size.
 * Writable runs deny copy-data and check-file, which could otherwise
 * spend minutes on a sparse file the input made huge.  The root is
 * emptied and re-seeded after every writable run.
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
#include "ferry/sftp.h"
#include "ferry/sftp-server.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_root[64];

static int
fuzz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level == 0)
		return 0;
	if (remove(path) != 0) {
		/* A directory the input made unwritable: open it up. */
		(void)chmod(path, 0700);
		(void)remove(path);
	}
	return 0;
}

static void
fuzz_cleanup(void)
{
	nftw(fuzz_root, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
	rmdir(fuzz_root);
}

static void
fuzz_seed_root(void)
{
	char p[128];
	int fd;

	chmod(fuzz_root, 0755);
	nftw(fuzz_root, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
	snprintf(p, sizeof(p), "%s/f", fuzz_root);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0) {
		if (write(fd, "0123456789abcdef", 16) != 16)
			fuzz_abort();
		close(fd);
	}
	snprintf(p, sizeof(p), "%s/d", fuzz_root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/d/g", fuzz_root);
	close(open(p, O_WRONLY | O_CREAT, 0600));
	snprintf(p, sizeof(p), "%s/l", fuzz_root);
	if (symlink("../../../f", p) != 0)
		fuzz_abort();
}

static void
fuzz_init(void)
{
	char tmpl[] = "/tmp/fuzz-sftp-server.XXXXXX";

	if (mkdtemp(tmpl) == NULL)
		fuzz_abort();
	snprintf(fuzz_root, sizeof(fuzz_root), "%s", tmpl);
	fuzz_seed_root();
	atexit(fuzz_cleanup);
}

static void
fuzz_drain(struct sftp_server *s)
{
	struct buf *out = sftp_server_output(s);

	while (buf_len(out) > 0) {
		/* Replies must be well framed. */
		uint32_t len;

		if (buf_get_u32(out, &len) != 0 || len > buf_len(out) ||
		    buf_consume(out, len) != 0)
			fuzz_abort();
		if (sftp_server_process(s) != 0)
			break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t init[] = { 0, 0, 0, 5, SSH_FXP_INIT, 0, 0, 0, 3 };
	struct sftp_server_opts o;
	struct sftp_server *s;
	size_t chunk, n, space;

	if (fuzz_root[0] == '\0')
		fuzz_init();
	if (size < 1)
		return 0;
	memset(&o, 0, sizeof(o));
	o.root = fuzz_root;
	o.start_dir = "/d";
	o.read_only = data[0] & 1;
	o.no_openat2 = (data[0] >> 1) & 1;
	o.max_handles = 8;
	o.out_cap = 4096;
	if (!o.read_only)
		o.denied = SFTP_REQ_BIT(SFTP_REQ_COPY_DATA) |
		    SFTP_REQ_BIT(SFTP_REQ_CHECK_FILE_HANDLE) |
		    SFTP_REQ_BIT(SFTP_REQ_CHECK_FILE_NAME);
	chunk = (size_t)(data[0] >> 2) * 7 + 1;
	if ((s = sftp_server_new(&o)) == NULL)
		fuzz_abort();
	if (sftp_server_input(s, init, sizeof(init)) != 0)
		fuzz_abort();
	fuzz_drain(s);
	data++;
	size--;
	while (size > 0 && !sftp_server_done(s)) {
		space = sftp_server_input_space(s);
		n = size < chunk ? size : chunk;
		if (n > space)
			n = space;
		if (n == 0) {
			fuzz_drain(s);
			if (sftp_server_input_space(s) == 0)
				break;
			continue;
		}
		(void)sftp_server_input(s, data, n);
		data += n;
		size -= n;
		fuzz_drain(s);
	}
	sftp_server_free(s);
	if (!o.read_only)
		fuzz_seed_root();
	return 0;
}
