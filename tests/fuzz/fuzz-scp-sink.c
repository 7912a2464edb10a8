/*
 * Fuzz target for the scp sink: the input is the byte stream a source
 * (a possibly hostile server) sends, fed in chunks to a sink whose file
 * system is simulated in memory.  Byte 0 chooses the configuration: bit 0
 * -r, bit 1 -p, bit 2 a requested pattern, bit 3 -T, bits 4-7 the chunk
 * size.  The simulated file system aborts when the engine asks for any
 * path outside the target "T" or with a "." or ".." component: that is
 * the property the sink's checks exist for.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/buf.h"
#include "ferry/scp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_handle;

/* Every path must be "T" or "T/" + components that are not "", ".", "..". */
static void
fuzz_check(const char *path)
{
	const char *p, *q;
	size_t n;

	if (strcmp(path, "T") == 0)
		return;
	if (strncmp(path, "T/", 2) != 0)
		abort();
	for (p = path + 2;; p = q + 1) {
		q = strchr(p, '/');
		n = q != NULL ? (size_t)(q - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			abort();
		if (q == NULL)
			break;
	}
}

static int
fuzz_stat(void *ctx, const char *path, struct scp_stat *st)
{
	(void)ctx;
	fuzz_check(path);
	if (strcmp(path, "T") != 0)
		return ENOENT;
	st->is_dir = 1;
	st->mode = 0755;
	return 0;
}

static int
fuzz_open(void *ctx, const char *path, int wr, uint32_t mode, void **fhp,
    struct scp_stat *st)
{
	(void)ctx;
	(void)mode;
	fuzz_check(path);
	if (!wr)
		abort();	/* a sink never reads */
	memset(st, 0, sizeof(*st));
	st->is_reg = 1;
	/* Some names fail, to reach the error answers. */
	if (strchr(path, 'x') != NULL)
		return EACCES;
	*fhp = &fuzz_handle;
	return 0;
}

static int
fuzz_read(void *ctx, void *fh, void *p, size_t len, size_t *nreadp)
{
	(void)ctx;
	(void)fh;
	(void)p;
	(void)len;
	(void)nreadp;
	abort();
}

static int
fuzz_write(void *ctx, void *fh, const void *p, size_t len)
{
	(void)ctx;
	(void)p;
	if (fh != &fuzz_handle)
		abort();
	return len > 0 && ((const uint8_t *)p)[0] == 'W' ? ENOSPC : 0;
}

static int
fuzz_truncate(void *ctx, void *fh, uint64_t size)
{
	(void)ctx;
	(void)size;
	if (fh != &fuzz_handle)
		abort();
	return 0;
}

static int
fuzz_fchmod(void *ctx, void *fh, uint32_t mode)
{
	(void)ctx;
	if (fh != &fuzz_handle || mode > 07777)
		abort();
	return 0;
}

static int
fuzz_close(void *ctx, void *fh)
{
	(void)ctx;
	if (fh != &fuzz_handle)
		abort();
	return 0;
}

static int
fuzz_mkdir(void *ctx, const char *path, uint32_t mode)
{
	(void)ctx;
	(void)mode;
	fuzz_check(path);
	return strchr(path, 'y') != NULL ? EEXIST : 0;
}

static int
fuzz_chmod(void *ctx, const char *path, uint32_t mode)
{
	(void)ctx;
	fuzz_check(path);
	if (strcmp(path, "T") == 0 || mode > 07777)
		abort();	/* the target's mode must never change */
	return 0;
}

static int
fuzz_utimes(void *ctx, const char *path, int64_t atime, int64_t mtime)
{
	(void)ctx;
	(void)atime;
	(void)mtime;
	fuzz_check(path);
	if (strcmp(path, "T") == 0)
		abort();
	return 0;
}

static int
fuzz_opendir(void *ctx, const char *path, void **dhp)
{
	(void)ctx;
	(void)path;
	(void)dhp;
	abort();
}

static int
fuzz_readdir(void *ctx, void *dh, const char **namep)
{
	(void)ctx;
	(void)dh;
	(void)namep;
	abort();
}

static void
fuzz_closedir(void *ctx, void *dh)
{
	(void)ctx;
	(void)dh;
	abort();
}

static const struct scp_fs_ops fuzz_ops = {
	fuzz_stat, fuzz_open, fuzz_read, fuzz_write, fuzz_truncate,
	fuzz_fchmod, fuzz_close, fuzz_mkdir, fuzz_chmod, fuzz_utimes,
	fuzz_opendir, fuzz_readdir, fuzz_closedir,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const pats[] = { "a*", "[b-d]?", NULL };
	struct scp_config cfg;
	struct scp *e;
	size_t chunk, n, off;

	if (size < 1)
		return 0;
	memset(&cfg, 0, sizeof(cfg));
	cfg.role = SCP_SINK;
	cfg.recursive = data[0] & 1;
	cfg.preserve = (data[0] >> 1) & 1;
	cfg.patterns = (data[0] & 4) ? pats : NULL;
	cfg.relaxed = (data[0] >> 3) & 1;
	cfg.umask = 022;
	cfg.target = "T";
	cfg.fs = &fuzz_ops;
	chunk = (size_t)(data[0] >> 4) * 97 + 1;
	if (scp_new(&cfg, &e) != 0)
		return 0;
	for (off = 1; off < size && !scp_done(e); off += n) {
		n = size - off < chunk ? size - off : chunk;
		if (n > scp_input_space(e))
			n = scp_input_space(e);
		if (n == 0 || scp_input(e, data + off, n) != 0)
			break;
		if (scp_process(e) != 0)
			break;
		/* Drain the answers as a driver would. */
		if (buf_consume(scp_output(e), buf_len(scp_output(e))) != 0)
			abort();
	}
	scp_input_eof(e);
	if (scp_process(e) != 0 && !scp_failed(e))
		abort();
	scp_free(e);
	return 0;
}
