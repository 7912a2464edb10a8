/*
 * The SFTP server engine driven in memory: bytes in, bytes out, on a
 * temporary root.  Covers every request family, malformed messages,
 * limits, back-pressure and confinement (with openat2 and with the
 * user-space walk).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sftp.h"
#include "ferry/sftp-server.h"
#include "tap.h"

static struct sftp_server *S;
static uint32_t next_id = 1;
static char root[256], outside[256];

/* Fail the whole test on a broken harness step. */
#define H(x) do { \
	if ((x) != 0) { \
		printf("Bail out! %s\n", #x); \
		exit(1); \
	} \
} while (0)

static struct buf *
req(uint8_t type, uint32_t *idp)
{
	struct buf *b = buf_new();

	H(b == NULL);
	*idp = next_id++;
	H(buf_put_u8(b, type));
	H(buf_put_u32(b, *idp));
	return b;
}

static struct buf *
ext(const char *name, uint32_t *idp)
{
	struct buf *b = req(SSH_FXP_EXTENDED, idp);

	H(buf_put_cstring(b, name));
	return b;
}

/* Frame and feed a message body; returns the engine's result. */
static int
feed(struct buf *b)
{
	struct buf *f = buf_new();
	int r;

	H(f == NULL);
	H(buf_put_stringb(f, b));
	r = sftp_server_input(S, buf_ptr(f), buf_len(f));
	buf_free(f);
	buf_free(b);
	return r;
}

/* Take the next reply: its type and id; *bodyp gets the rest. */
static int
reply(uint8_t *typep, uint32_t *idp, struct buf **bodyp)
{
	struct buf *out = sftp_server_output(S), *body;
	uint32_t len;

	*bodyp = NULL;
	if (buf_get_u32(out, &len) != 0)
		return -1;
	H(buf_len(out) < len);
	H((body = buf_new()) == NULL);
	H(buf_put(body, buf_ptr(out), len));
	H(buf_consume(out, len));
	H(buf_get_u8(body, typep));
	if (*typep != SSH_FXP_VERSION)
		H(buf_get_u32(body, idp));
	*bodyp = body;
	return 0;
}

/* Feed b and return the status code of the reply (or -type). */
static long
status_of(struct buf *b, char *msg, size_t msglen)
{
	struct buf *body;
	uint32_t id, code;
	uint8_t type;
	char *m;

	H(feed(b));
	if (reply(&type, &id, &body) != 0)
		return -1000;
	if (type != SSH_FXP_STATUS) {
		buf_free(body);
		return -(long)type;
	}
	H(buf_get_u32(body, &code));
	H(buf_get_cstring(body, &m, NULL));
	if (msg != NULL)
		snprintf(msg, msglen, "%s", m);
	free(m);
	buf_free(body);
	return code;
}

static long
status(struct buf *b)
{
	return status_of(b, NULL, 0);
}

static struct buf *
expect(struct buf *b, uint8_t want)
{
	struct buf *body;
	uint32_t id;
	uint8_t type;

	H(feed(b));
	if (reply(&type, &id, &body) != 0)
		return NULL;
	if (type != want) {
		buf_free(body);
		return NULL;
	}
	return body;
}

static void
start(int no_openat2, int read_only, uint64_t denied, unsigned int maxh,
    size_t out_cap)
{
	struct sftp_server_opts o;
	struct buf *b = buf_new(), *body;
	uint32_t id;
	uint8_t type;

	memset(&o, 0, sizeof(o));
	o.root = root;
	o.read_only = read_only;
	o.denied = denied;
	o.no_openat2 = no_openat2;
	o.max_handles = maxh;
	o.out_cap = out_cap;
	sftp_server_free(S);
	H((S = sftp_server_new(&o)) == NULL);
	H(buf_put_u8(b, SSH_FXP_INIT));
	H(buf_put_u32(b, 3));
	H(feed(b));
	H(reply(&type, &id, &body));
	H(type != SSH_FXP_VERSION);
	buf_free(body);
}

static int
hstr(struct buf *body, uint8_t h[64], size_t *hl)
{
	const uint8_t *p;
	size_t len;

	if (body == NULL || buf_get_string_direct(body, &p, &len) != 0 ||
	    len > 64)
		return -1;
	memcpy(h, p, len);
	*hl = len;
	buf_free(body);
	return 0;
}

static int
do_open(const char *path, uint32_t pflags, uint8_t h[64], size_t *hl)
{
	uint32_t id;
	struct buf *b = req(SSH_FXP_OPEN, &id);

	H(buf_put_cstring(b, path));
	H(buf_put_u32(b, pflags));
	H(buf_put_u32(b, 0));
	return hstr(expect(b, SSH_FXP_HANDLE), h, hl);
}

static long
do_close(const uint8_t *h, size_t hl)
{
	uint32_t id;
	struct buf *b = req(SSH_FXP_CLOSE, &id);

	H(buf_put_string(b, h, hl));
	return status(b);
}

static long
path_req(uint8_t type, const char *path)
{
	uint32_t id;
	struct buf *b = req(type, &id);

	H(buf_put_cstring(b, path));
	if (type == SSH_FXP_MKDIR)
		H(buf_put_u32(b, 0));
	return status(b);
}

static char *
name1(uint8_t type, const char *path)
{
	uint32_t id, count;
	struct buf *b = type == 0 ? ext("expand-path@openssh.com", &id) :
	    req(type, &id), *body;
	char *name = NULL;

	H(buf_put_cstring(b, path));
	if ((body = expect(b, SSH_FXP_NAME)) == NULL)
		return NULL;
	if (buf_get_u32(body, &count) != 0 || count != 1 ||
	    buf_get_cstring(body, &name, NULL) != 0)
		name = NULL;
	buf_free(body);
	return name;
}

static int
write_file(const char *rel, const char *data, size_t len)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static int
exists(const char *dir, const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

static void
test_requests(void)
{
	uint64_t mask;
	unsigned int i;

	is_int(sftp_server_parse_requests("open,check-file-name", &mask), 0,
	    "parse request names");
	is_int(mask, SFTP_REQ_BIT(SFTP_REQ_OPEN) |
	    SFTP_REQ_BIT(SFTP_REQ_CHECK_FILE_NAME), "mask of the names");
	is_int(sftp_server_parse_requests("open,bogus", &mask), FERR_ARGUMENT,
	    "unknown name refused");
	is_int(sftp_server_parse_requests("open,", &mask), FERR_ARGUMENT,
	    "trailing comma refused");
	is_int(sftp_server_parse_requests("open,,close", &mask),
	    FERR_ARGUMENT, "empty name refused");
	for (i = 0; sftp_server_request_name(i) != NULL; i++)
		;
	is_int(i, SFTP_REQ_COUNT, "a name for every request");
	ok(strcmp(sftp_server_request_name(SFTP_REQ_USERS_GROUPS_BY_ID),
	    "users-groups-by-id") == 0, "OpenSSH's spelling");
}

static void
test_init(void)
{
	struct sftp_server_opts o;
	struct buf *b, *body, *out;
	uint32_t id, version;
	uint8_t type;
	char *name, *val;
	int have_posix = 0, have_limits = 0, have_check = 0;

	memset(&o, 0, sizeof(o));
	o.root = root;
	o.denied = SFTP_REQ_BIT(SFTP_REQ_LIMITS);
	H((S = sftp_server_new(&o)) == NULL);
	b = buf_new();
	H(buf_put_u8(b, SSH_FXP_INIT));
	H(buf_put_u32(b, 3));
	H(buf_put_cstring(b, "client-ext@example.com"));
	H(buf_put_cstring(b, "1"));
	is_int(feed(b), 0, "INIT accepted");
	ok(reply(&type, &id, &body) == 0 && type == SSH_FXP_VERSION,
	    "VERSION reply");
	H(buf_get_u32(body, &version));
	is_int(version, 3, "protocol version 3");
	while (buf_len(body) > 0) {
		H(buf_get_cstring(body, &name, NULL));
		H(buf_get_cstring(body, &val, NULL));
		have_posix |= strcmp(name, "posix-rename@openssh.com") == 0 &&
		    strcmp(val, "1") == 0;
		have_limits |= strcmp(name, "limits@openssh.com") == 0;
		have_check |= strcmp(name, "check-file-handle") == 0 &&
		    strstr(val, "sha256") != NULL;
		free(name);
		free(val);
	}
	buf_free(body);
	ok(have_posix, "posix-rename advertised with version 1");
	ok(have_check, "check-file-handle advertised with algorithms");
	ok(!have_limits, "denied limits@openssh.com not advertised");
	/* A second INIT ends the session. */
	b = buf_new();
	H(buf_put_u8(b, SSH_FXP_INIT));
	H(buf_put_u32(b, 3));
	is_int(feed(b), FERR_PROTOCOL, "second INIT is a protocol error");
	ok(sftp_server_done(S), "session done");
	is_int(sftp_server_input_space(S), 0, "no input taken once done");
	sftp_server_free(S);

	/* Anything before INIT ends the session. */
	H((S = sftp_server_new(&o)) == NULL);
	b = req(SSH_FXP_STAT, &id);
	H(buf_put_cstring(b, "/"));
	is_int(feed(b), FERR_PROTOCOL, "request before INIT refused");
	out = sftp_server_output(S);
	is_int(buf_len(out), 0, "no reply before INIT");
	sftp_server_free(S);
	S = NULL;
}

/* Empty the root between runs. */
static void
reset_root(void)
{
	pid_t pid;
	int st;

	if ((pid = fork()) == 0) {
		execl("/bin/rm", "rm", "-rf", "--", root, (char *)NULL);
		_exit(127);
	}
	H(pid < 0 || waitpid(pid, &st, 0) != pid || st != 0);
	H(mkdir(root, 0755));
}

static void
test_files(int walk)
{
	uint8_t h[64], h2[64];
	size_t hl, hl2, len;
	struct buf *b, *body;
	const uint8_t *p;
	uint32_t id, count;
	uint64_t v;
	char *n, big[300000];
	int i;

	reset_root();
	start(walk, 0, 0, 0, 0);
	ok(do_open("/f1", SSH_FXF_WRITE | SSH_FXF_CREAT | SSH_FXF_TRUNC, h,
	    &hl) == 0, "[%s] open for writing", walk ? "walk" : "openat2");
	b = req(SSH_FXP_WRITE, &id);
	H(buf_put_string(b, h, hl));
	H(buf_put_u64(b, 0));
	H(buf_put_cstring(b, "hello, world"));
	is_int(status(b), SSH_FX_OK, "write");
	is_int(do_close(h, hl), SSH_FX_OK, "close");
	is_int(do_close(h, hl), SSH_FX_FAILURE, "closed handle is invalid");
	ok(do_open("f1", SSH_FXF_READ, h, &hl) == 0,
	    "open relative path for reading");
	b = req(SSH_FXP_READ, &id);
	H(buf_put_string(b, h, hl));
	H(buf_put_u64(b, 7));
	H(buf_put_u32(b, 100));
	body = expect(b, SSH_FXP_DATA);
	ok(body != NULL && buf_get_string_direct(body, &p, &len) == 0 &&
	    len == 5 && memcmp(p, "world", 5) == 0, "read at an offset");
	buf_free(body);
	b = req(SSH_FXP_READ, &id);
	H(buf_put_string(b, h, hl));
	H(buf_put_u64(b, 12));
	H(buf_put_u32(b, 100));
	is_int(status(b), SSH_FX_EOF, "read at end of file: EOF");
	b = req(SSH_FXP_FSTAT, &id);
	H(buf_put_string(b, h, hl));
	body = expect(b, SSH_FXP_ATTRS);
	ok(body != NULL && buf_get_u32(body, &count) == 0 &&
	    buf_get_u64(body, &v) == 0 && v == 12, "fstat size");
	buf_free(body);
	b = req(SSH_FXP_WRITE, &id);
	H(buf_put_string(b, h, hl));
	H(buf_put_u64(b, 0));
	H(buf_put_cstring(b, "x"));
	ok(status(b) != SSH_FX_OK, "write on a read-only handle fails");
	is_int(do_close(h, hl), SSH_FX_OK, "close");

	/* A large READ is clamped, and filled straight from the file. */
	memset(big, 'z', sizeof(big));
	H(write_file("big", big, sizeof(big)));
	ok(do_open("/big", SSH_FXF_READ, h, &hl) == 0, "open big");
	b = req(SSH_FXP_READ, &id);
	H(buf_put_string(b, h, hl));
	H(buf_put_u64(b, 0));
	H(buf_put_u32(b, 1000000));
	body = expect(b, SSH_FXP_DATA);
	ok(body != NULL && buf_get_string_direct(body, &p, &len) == 0 &&
	    len == SFTP_MAX_RW, "READ length clamped to %u", SFTP_MAX_RW);
	buf_free(body);

	/* copy-data */
	ok(do_open("/copy", SSH_FXF_WRITE | SSH_FXF_CREAT, h2, &hl2) == 0,
	    "open copy target");
	b = ext("copy-data", &id);
	H(buf_put_string(b, h, hl));
	H(buf_put_u64(b, 10));
	H(buf_put_u64(b, 0));
	H(buf_put_string(b, h2, hl2));
	H(buf_put_u64(b, 0));
	is_int(status(b), SSH_FX_OK, "copy-data to EOF");
	b = ext("copy-data", &id);
	H(buf_put_string(b, h, hl));
	H(buf_put_u64(b, 0));
	H(buf_put_u64(b, 0));
	H(buf_put_string(b, h, hl));
	H(buf_put_u64(b, 0));
	is_int(status(b), SSH_FX_FAILURE, "copy-data onto itself refused");
	is_int(do_close(h, hl), SSH_FX_OK, "close");
	is_int(do_close(h2, hl2), SSH_FX_OK, "close");
	{
		struct stat st;
		char pth[512];

		snprintf(pth, sizeof(pth), "%s/copy", root);
		ok(stat(pth, &st) == 0 && st.st_size == sizeof(big) - 10,
		    "copy-data copied the rest of the file");
	}

	/* copy-data of a range, and to an append-only handle (no kernel copy). */
	ok(do_open("/f1", SSH_FXF_READ, h, &hl) == 0 &&
	    do_open("/range", SSH_FXF_WRITE | SSH_FXF_CREAT, h2, &hl2) == 0,
	    "open range source and target");
	b = ext("copy-data", &id);
	H(buf_put_string(b, h, hl));
	H(buf_put_u64(b, 7));
	H(buf_put_u64(b, 5));
	H(buf_put_string(b, h2, hl2));
	H(buf_put_u64(b, 2));
	is_int(status(b), SSH_FX_OK, "copy-data of a range");
	is_int(do_close(h2, hl2), SSH_FX_OK, "close");
	ok(do_open("/range", SSH_FXF_WRITE | SSH_FXF_APPEND, h2, &hl2) == 0,
	    "open for appending");
	b = ext("copy-data", &id);
	H(buf_put_string(b, h, hl));
	H(buf_put_u64(b, 0));
	H(buf_put_u64(b, 5));
	H(buf_put_string(b, h2, hl2));
	H(buf_put_u64(b, 0));
	is_int(status(b), SSH_FX_OK, "copy-data to an append-only handle");
	is_int(do_close(h2, hl2), SSH_FX_OK, "close");
	is_int(do_close(h, hl), SSH_FX_OK, "close");
	{
		char pth[512], got[32];
		ssize_t gl;
		int fd;

		snprintf(pth, sizeof(pth), "%s/range", root);
		fd = open(pth, O_RDONLY);
		gl = fd >= 0 ? read(fd, got, sizeof(got)) : -1;
		if (fd >= 0)
			close(fd);
		is_mem(got, gl > 0 ? (size_t)gl : 0, "\0\0worldhello", 12,
		    "range copied to its offset, then appended");
	}

	/* Handle limit. */
	start(walk, 0, 0, 2, 0);
	ok(do_open("/f1", SSH_FXF_READ, h, &hl) == 0 &&
	    do_open("/f1", SSH_FXF_READ, h2, &hl2) == 0, "two handles");
	b = req(SSH_FXP_OPEN, &id);
	H(buf_put_cstring(b, "/f1"));
	H(buf_put_u32(b, SSH_FXF_READ));
	H(buf_put_u32(b, 0));
	{
		char msg[128];

		is_int(status_of(b, msg, sizeof(msg)), SSH_FX_FAILURE,
		    "third handle refused");
		ok(strstr(msg, "handles") != NULL, "with a clear message: %s",
		    msg);
	}

	/* Directories and names. */
	start(walk, 0, 0, 0, 0);
	is_int(path_req(SSH_FXP_MKDIR, "/dir"), SSH_FX_OK, "mkdir");
	is_int(path_req(SSH_FXP_MKDIR, "/dir"), SSH_FX_FAILURE,
	    "mkdir existing fails");
	for (i = 0; i < 300; i++) {
		char nm[64];

		snprintf(nm, sizeof(nm), "dir/entry-%03d", i);
		H(write_file(nm, "", 0));
	}
	b = req(SSH_FXP_OPENDIR, &id);
	H(buf_put_cstring(b, "/dir"));
	ok(hstr(expect(b, SSH_FXP_HANDLE), h, &hl) == 0, "opendir");
	count = 0;
	for (i = 0; i < 10; i++) {
		uint32_t c;

		b = req(SSH_FXP_READDIR, &id);
		H(buf_put_string(b, h, hl));
		if ((body = expect(b, SSH_FXP_NAME)) == NULL)
			break;
		H(buf_get_u32(body, &c));
		count += c;
		if (i == 0) {
			char *ln;

			H(buf_get_cstring(body, &n, NULL));
			H(buf_get_cstring(body, &ln, NULL));
			ok(strlen(ln) > strlen(n) &&
			    strcmp(ln + strlen(ln) - strlen(n), n) == 0 &&
			    (ln[0] == '-' || ln[0] == 'd'),
			    "longname like ls -l: %s", ln);
			ok(c > 100, "many entries per READDIR (%u)", c);
			free(n);
			free(ln);
		}
		buf_free(body);
	}
	is_int(count, 302, "all entries listed, . and .. included");
	is_int(do_close(h, hl), SSH_FX_OK, "closedir");
	is_int(path_req(SSH_FXP_RMDIR, "/dir"), SSH_FX_FAILURE,
	    "rmdir of a non-empty directory fails");

	/* Rename, posix-rename, symlink (OpenSSH order), readlink, link. */
	H(write_file("a", "A", 1));
	H(write_file("b", "B", 1));
	b = req(SSH_FXP_RENAME, &id);
	H(buf_put_cstring(b, "/a"));
	H(buf_put_cstring(b, "/b"));
	is_int(status(b), SSH_FX_FAILURE, "rename onto an existing name fails");
	b = ext("posix-rename@openssh.com", &id);
	H(buf_put_cstring(b, "/a"));
	H(buf_put_cstring(b, "/b"));
	is_int(status(b), SSH_FX_OK, "posix-rename replaces");
	ok(!exists(root, "a") && exists(root, "b"), "a became b");
	b = req(SSH_FXP_SYMLINK, &id);
	H(buf_put_cstring(b, "b"));
	H(buf_put_cstring(b, "/sl"));
	is_int(status(b), SSH_FX_OK, "symlink (target, link)");
	n = name1(SSH_FXP_READLINK, "/sl");
	ok(n != NULL && strcmp(n, "b") == 0, "readlink gives the target");
	free(n);
	b = ext("hardlink@openssh.com", &id);
	H(buf_put_cstring(b, "/b"));
	H(buf_put_cstring(b, "/hl"));
	is_int(status(b), SSH_FX_OK, "hardlink");
	is_int(path_req(SSH_FXP_REMOVE, "/hl"), SSH_FX_OK, "remove");
	is_int(path_req(SSH_FXP_REMOVE, "/hl"), SSH_FX_NO_SUCH_FILE,
	    "remove missing: no such file");
	is_int(path_req(SSH_FXP_RMDIR, "/"), SSH_FX_FAILURE,
	    "rmdir of the root refused");
	n = name1(SSH_FXP_REALPATH, "/dir/../dir/./entry-001");
	ok(n != NULL && strcmp(n, "/dir/entry-001") == 0, "realpath");
	free(n);
	n = name1(SSH_FXP_REALPATH, "/sl");
	ok(n != NULL && strcmp(n, "/b") == 0, "realpath follows links");
	free(n);
	n = name1(0, "~/dir");
	ok(n != NULL && strcmp(n, "/dir") == 0, "expand-path ~");
	free(n);

	/* setstat */
	b = req(SSH_FXP_SETSTAT, &id);
	H(buf_put_cstring(b, "/b"));
	H(buf_put_u32(b, SSH_FILEXFER_ATTR_PERMISSIONS |
	    SSH_FILEXFER_ATTR_ACMODTIME | SSH_FILEXFER_ATTR_SIZE));
	H(buf_put_u64(b, 5));
	H(buf_put_u32(b, 0600));
	H(buf_put_u32(b, 1000000000));
	H(buf_put_u32(b, 1000000000));
	is_int(status(b), SSH_FX_OK, "setstat size, mode, times");
	{
		struct stat st;
		char pth[512];

		snprintf(pth, sizeof(pth), "%s/b", root);
		ok(stat(pth, &st) == 0 && (st.st_mode & 07777) == 0600 &&
		    st.st_mtime == 1000000000 && st.st_size == 5,
		    "attributes set");
	}
	/* fsetstat: the same attributes through an open handle */
	ok(do_open("/b", SSH_FXF_WRITE, h, &hl) == 0, "open for fsetstat");
	b = req(SSH_FXP_FSETSTAT, &id);
	H(buf_put_string(b, h, hl));
	H(buf_put_u32(b, SSH_FILEXFER_ATTR_PERMISSIONS |
	    SSH_FILEXFER_ATTR_ACMODTIME | SSH_FILEXFER_ATTR_SIZE));
	H(buf_put_u64(b, 3));
	H(buf_put_u32(b, 0640));
	H(buf_put_u32(b, 1100000000));
	H(buf_put_u32(b, 1100000000));
	is_int(status(b), SSH_FX_OK, "fsetstat size, mode, times");
	is_int(do_close(h, hl), SSH_FX_OK, "close after fsetstat");
	{
		struct stat st;
		char pth[512];

		snprintf(pth, sizeof(pth), "%s/b", root);
		ok(stat(pth, &st) == 0 && (st.st_mode & 07777) == 0640 &&
		    st.st_mtime == 1100000000 && st.st_size == 3,
		    "attributes set through the handle");
	}
	/* a size beyond INT64_MAX is refused by path */
	b = req(SSH_FXP_SETSTAT, &id);
	H(buf_put_cstring(b, "/b"));
	H(buf_put_u32(b, SSH_FILEXFER_ATTR_SIZE));
	H(buf_put_u64(b, UINT64_MAX));
	ok(status(b) != SSH_FX_OK, "setstat of a size beyond INT64_MAX fails");

	/* limits and users-groups-by-id */
	b = ext("limits@openssh.com", &id);
	body = expect(b, SSH_FXP_EXTENDED_REPLY);
	ok(body != NULL && buf_get_u64(body, &v) == 0 && v == SFTP_MAX_MSG &&
	    buf_get_u64(body, &v) == 0 && v == SFTP_MAX_RW, "limits");
	buf_free(body);
	b = ext("users-groups-by-id@openssh.com", &id);
	{
		struct buf *ids = buf_new(), *names;

		H(buf_put_u32(ids, 0));
		H(buf_put_string(b, buf_ptr(ids), buf_len(ids)));
		H(buf_put_string(b, buf_ptr(ids), buf_len(ids)));
		buf_free(ids);
		body = expect(b, SSH_FXP_EXTENDED_REPLY);
		ok(body != NULL && buf_froms(body, &names) == 0 &&
		    buf_get_cstring(names, &n, NULL) == 0 &&
		    strcmp(n, "root") == 0, "uid 0 is root");
		if (body != NULL) {
			free(n);
			buf_free(names);
		}
		buf_free(body);
	}
	sftp_server_free(S);
	S = NULL;
}

static void
test_malformed(void)
{
	struct buf *b, *body;
	uint32_t id;
	uint8_t type, raw[16];
	char big[64];

	start(0, 0, 0, 0, 0);
	b = req(SSH_FXP_STAT, &id);
	H(buf_put_cstring(b, "/"));
	H(buf_put_u8(b, 0));
	is_int(status(b), SSH_FX_BAD_MESSAGE, "trailing byte: bad message");
	b = req(SSH_FXP_OPEN, &id);
	H(buf_put_cstring(b, "/x"));
	is_int(status(b), SSH_FX_BAD_MESSAGE, "truncated OPEN: bad message");
	ok(!exists(root, "x"), "nothing created by the truncated OPEN");
	b = req(SSH_FXP_STAT, &id);
	H(buf_put_string(b, "a\0b", 3));
	is_int(status(b), SSH_FX_BAD_MESSAGE, "NUL in a path: bad message");
	b = req(99, &id);
	is_int(status(b), SSH_FX_OP_UNSUPPORTED, "unknown type: unsupported");
	b = ext("nope@example.com", &id);
	is_int(status(b), SSH_FX_OP_UNSUPPORTED,
	    "unknown extension: unsupported");
	b = buf_new();
	is_int(status(b), SSH_FX_BAD_MESSAGE, "zero-length message");
	b = buf_new();
	H(buf_put_u8(b, SSH_FXP_STAT));
	H(buf_put_u8(b, 1));
	is_int(status(b), SSH_FX_BAD_MESSAGE, "message without an id");
	/* Oversized: answered with its id, skipped, and the stream goes on. */
	raw[0] = 0; raw[1] = 0x04; raw[2] = 0; raw[3] = 0x01;	/* 256K+1 */
	raw[4] = SSH_FXP_WRITE;
	raw[5] = 0; raw[6] = 0; raw[7] = 0x12; raw[8] = 0x34;
	is_int(sftp_server_input(S, raw, 9), 0, "oversized header taken");
	ok(reply(&type, &id, &body) == 0 && type == SSH_FXP_STATUS &&
	    id == 0x1234, "oversized message answered with its id");
	buf_free(body);
	memset(big, 0, sizeof(big));
	{
		size_t left = 256 * 1024 + 1 - 5, n;

		while (left > 0) {
			n = left < sizeof(big) ? left : sizeof(big);
			H(sftp_server_input(S, (uint8_t *)big, n));
			left -= n;
		}
	}
	b = req(SSH_FXP_STAT, &id);
	H(buf_put_cstring(b, "/"));
	body = expect(b, SSH_FXP_ATTRS);
	ok(body != NULL, "stream in sync after the oversized message");
	buf_free(body);
	sftp_server_free(S);
	S = NULL;
}

/* Enough small requests to fill the input queue (2 x 256 KiB). */
#define SERVER_REQS	20000

static void
test_backpressure(void)
{
	uint8_t h[64];
	size_t hl, maxout = 0, answered = 0;
	struct buf *b, *out, *body;
	uint32_t id, first = 0, last = 0, prev = 0;
	uint8_t type;
	int i, inorder = 1, stalled = 0;

	start(0, 0, 0, 0, 64 * 1024);
	H(do_open("/big", SSH_FXF_READ, h, &hl));
	out = sftp_server_output(S);
	for (i = 0; i < SERVER_REQS; i++) {
		b = req(SSH_FXP_READ, &id);
		if (i == 0)
			first = id;
		last = id;
		H(buf_put_string(b, h, hl));
		H(buf_put_u64(b, (uint64_t)(i % 200) * 1000));
		H(buf_put_u32(b, 1000));
		if (sftp_server_input_space(S) < buf_len(b) + 4) {
			stalled = 1;
			/* Drain one reply, as a driver would, then go on. */
			while (sftp_server_input_space(S) < buf_len(b) + 4) {
				H(reply(&type, &id, &body));
				inorder &= id == prev + 1 || prev == 0;
				prev = id;
				answered++;
				buf_free(body);
				H(sftp_server_process(S));
			}
		}
		H(feed(b));
		if (buf_len(out) > maxout)
			maxout = buf_len(out);
	}
	while (reply(&type, &id, &body) == 0) {
		inorder &= id == prev + 1 || prev == 0;
		prev = id;
		answered++;
		buf_free(body);
		H(sftp_server_process(S));
	}
	ok(stalled, "input refused while output is above the cap");
	{
		static uint8_t junk[SFTP_MAX_MSG * 3];

		is_int(sftp_server_input(S, junk, sizeof(junk)), FERR_NO_SPACE,
		    "more input than the space offered is refused");
	}
	ok(maxout < 64 * 1024 + SFTP_MAX_MSG + 1024,
	    "output bounded (max %zu)", maxout);
	is_int(answered, SERVER_REQS, "every request answered");
	ok(inorder && prev == last && first != 0, "answered in order");
	sftp_server_free(S);
	S = NULL;
}

static void
test_confinement(int walk)
{
	struct buf *b, *body;
	uint32_t id;
	uint8_t h[64];
	size_t hl;
	char *n, p[512];
	const char *w = walk ? "walk" : "openat2";

	start(walk, 0, 0, 0, 0);
	snprintf(p, sizeof(p), "%s/esc-abs", root);
	unlink(p);
	H(symlink(outside, p));
	snprintf(p, sizeof(p), "%s/esc-rel", root);
	unlink(p);
	H(symlink("../../../../../../../../..", p));
	n = name1(SSH_FXP_REALPATH, "/../../..");
	ok(n != NULL && strcmp(n, "/") == 0, "[%s] realpath clamps ..", w);
	free(n);
	n = name1(SSH_FXP_REALPATH, "esc-rel/x");
	ok(n != NULL && strcmp(n, "/x") == 0,
	    "[%s] relative escape link resolves to the root", w);
	free(n);
	is_int(path_req(SSH_FXP_STAT, "/../../../../../../etc/passwd"),
	    SSH_FX_NO_SUCH_FILE, "[%s] /../../etc/passwd stays inside", w);
	/* The secret file outside the root cannot be reached. */
	is_int(path_req(SSH_FXP_STAT, "esc-abs/secret"), SSH_FX_NO_SUCH_FILE,
	    "[%s] absolute link to outside does not reach it", w);
	is_int(path_req(SSH_FXP_STAT, "esc-rel/secret"), SSH_FX_NO_SUCH_FILE,
	    "[%s] relative link to outside does not reach it", w);
	ok(do_open("esc-abs/new", SSH_FXF_WRITE | SSH_FXF_CREAT, h, &hl) != 0,
	    "[%s] create through an escaping link fails", w);
	ok(!exists(outside, "new"), "[%s] nothing created outside", w);
	b = ext("hardlink@openssh.com", &id);
	H(buf_put_cstring(b, "esc-rel/secret"));
	H(buf_put_cstring(b, "/stolen"));
	is_int(status(b), SSH_FX_NO_SUCH_FILE,
	    "[%s] hardlink of an outside file fails", w);
	b = req(SSH_FXP_RENAME, &id);
	H(buf_put_cstring(b, "/big"));
	H(buf_put_cstring(b, "esc-rel/moved"));
	is_int(status(b), SSH_FX_OK, "[%s] rename into .. stays in root", w);
	ok(!exists(outside, "moved") && exists(root, "moved"),
	    "[%s] renamed inside the root", w);
	b = req(SSH_FXP_RENAME, &id);
	H(buf_put_cstring(b, "/moved"));
	H(buf_put_cstring(b, "/big"));
	H(status(b) != SSH_FX_OK);
	b = req(SSH_FXP_OPENDIR, &id);
	H(buf_put_cstring(b, "/.."));
	ok(hstr(expect(b, SSH_FXP_HANDLE), h, &hl) == 0, "[%s] opendir /..", w);
	{
		struct stat rst, st;
		uint32_t c, i, flags;
		char *name, *ln;
		int dotdot_ok = 0;

		H(stat(root, &rst));
		b = req(SSH_FXP_READDIR, &id);
		H(buf_put_string(b, h, hl));
		body = expect(b, SSH_FXP_NAME);
		H(body == NULL);
		H(buf_get_u32(body, &c));
		for (i = 0; i < c; i++) {
			struct sftp_attrs a;

			H(buf_get_cstring(body, &name, NULL));
			H(buf_get_cstring(body, &ln, NULL));
			H(sftp_attrs_get(body, &a));
			flags = a.flags;
			st.st_mtime = (time_t)a.mtime;
			if (strcmp(name, "..") == 0 && (flags &
			    SSH_FILEXFER_ATTR_ACMODTIME) &&
			    st.st_mtime == rst.st_mtime &&
			    a.perm == (uint32_t)rst.st_mode)
				dotdot_ok = 1;
			ok(strcmp(name, "secret") != 0,
			    "[%s] outside entry %s not listed", w, name);
			free(name);
			free(ln);
		}
		buf_free(body);
		ok(dotdot_ok, "[%s] the root's .. shows the root", w);
	}
	sftp_server_free(S);
	S = NULL;
}

static void
test_policy(void)
{
	uint8_t h[64];
	size_t hl;
	struct buf *b;
	uint32_t id;

	start(0, 1, 0, 0, 0);
	ok(do_open("/ro-new", SSH_FXF_WRITE | SSH_FXF_CREAT, h, &hl) != 0,
	    "read-only: open for writing refused");
	ok(!exists(root, "ro-new"), "read-only: nothing created");
	is_int(path_req(SSH_FXP_MKDIR, "/ro-dir"), SSH_FX_PERMISSION_DENIED,
	    "read-only: mkdir denied");
	ok(do_open("/f1", SSH_FXF_READ, h, &hl) == 0,
	    "read-only: reading allowed");
	start(0, 0, SFTP_REQ_BIT(SFTP_REQ_STAT) |
	    SFTP_REQ_BIT(SFTP_REQ_POSIX_RENAME), 0, 0);
	is_int(path_req(SSH_FXP_STAT, "/"), SSH_FX_PERMISSION_DENIED,
	    "denied stat");
	is_int(path_req(SSH_FXP_LSTAT, "/"), -SSH_FXP_ATTRS,
	    "lstat still allowed");
	b = ext("posix-rename@openssh.com", &id);
	H(buf_put_cstring(b, "/f1"));
	H(buf_put_cstring(b, "/f2"));
	is_int(status(b), SSH_FX_PERMISSION_DENIED, "denied extension");
	ok(exists(root, "f1"), "denied rename did nothing");
	sftp_server_free(S);
	S = NULL;
}

static void
test_check_file(void)
{
	struct buf *b, *body;
	uint32_t id;
	uint8_t want[EVP_MAX_MD_SIZE * 4];
	unsigned int dl;
	char *alg;
	char data[1000];
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7);
	H(write_file("ck", data, sizeof(data)));
	start(0, 0, 0, 0, 0);
	b = ext("check-file-name", &id);
	H(buf_put_cstring(b, "/ck"));
	H(buf_put_cstring(b, "foo,sha256,md5"));
	H(buf_put_u64(b, 0));
	H(buf_put_u64(b, 0));
	H(buf_put_u32(b, 0));
	body = expect(b, SSH_FXP_EXTENDED_REPLY);
	H(EVP_Digest(data, sizeof(data), want, &dl, EVP_sha256(), NULL) != 1);
	ok(body != NULL && buf_get_cstring(body, &alg, NULL) == 0 &&
	    strcmp(alg, "sha256") == 0, "first supported algorithm chosen");
	ok(body != NULL && buf_len(body) == dl &&
	    memcmp(buf_ptr(body), want, dl) == 0, "whole-file sha256");
	if (body != NULL)
		free(alg);
	buf_free(body);
	/* md5 over [100, 100+600) in blocks of 256: 3 digests. */
	b = ext("check-file-name", &id);
	H(buf_put_cstring(b, "/ck"));
	H(buf_put_cstring(b, "md5"));
	H(buf_put_u64(b, 100));
	H(buf_put_u64(b, 600));
	H(buf_put_u32(b, 256));
	body = expect(b, SSH_FXP_EXTENDED_REPLY);
	H(EVP_Digest(data + 100, 256, want, &dl, EVP_md5(), NULL) != 1);
	H(EVP_Digest(data + 356, 256, want + 16, &dl, EVP_md5(), NULL) != 1);
	H(EVP_Digest(data + 612, 88, want + 32, &dl, EVP_md5(), NULL) != 1);
	ok(body != NULL && buf_get_cstring(body, &alg, NULL) == 0 &&
	    buf_len(body) == 48 && memcmp(buf_ptr(body), want, 48) == 0,
	    "md5 per 256-byte block of a range");
	if (body != NULL)
		free(alg);
	buf_free(body);
	b = ext("check-file-name", &id);
	H(buf_put_cstring(b, "/ck"));
	H(buf_put_cstring(b, "md5"));
	H(buf_put_u64(b, 0));
	H(buf_put_u64(b, 0));
	H(buf_put_u32(b, 100));
	is_int(status(b), SSH_FX_FAILURE, "block size under 256 refused");
	b = ext("check-file-name", &id);
	H(buf_put_cstring(b, "/ck"));
	H(buf_put_cstring(b, "crc32"));
	H(buf_put_u64(b, 0));
	H(buf_put_u64(b, 0));
	H(buf_put_u32(b, 0));
	is_int(status(b), SSH_FX_FAILURE, "no supported algorithm refused");
	sftp_server_free(S);
	S = NULL;
}

#define RACE_OPS	300

/*
 * A child swaps a directory of the root for a symbolic link to the
 * outside, over and over, while the engine creates files through it.
 */
static void
test_race(int walk)
{
	char dir[512], real[512], pth[512];
	uint8_t h[64];
	size_t hl;
	pid_t pid;
	int i, ops, st, made = 0;
	const char *w = walk ? "walk" : "openat2";

	snprintf(dir, sizeof(dir), "%s/race", root);
	snprintf(real, sizeof(real), "%s/race.real", root);
	H(mkdir(dir, 0755));
	start(walk, 0, 0, 0, 0);
	if ((pid = fork()) == 0) {
		for (;;) {
			if (rename(dir, real) != 0 || symlink(outside, dir) != 0)
				continue;
			unlink(dir);
			rename(real, dir);
			usleep(50);	/* leave the real directory a moment */
		}
	}
	H(pid < 0);
	/*
	 * At least RACE_OPS attempts, and more (up to ten times) until one
	 * went through the real directory, however the scheduler interleaves
	 * the two processes on a loaded machine.
	 */
	for (i = 0; i < RACE_OPS || (made == 0 && i < RACE_OPS * 10); i++) {
		char nm[64];

		snprintf(nm, sizeof(nm), "/race/f%d", i);
		if (do_open(nm, SSH_FXF_WRITE | SSH_FXF_CREAT, h, &hl) == 0) {
			made++;
			H(do_close(h, hl) != SSH_FX_OK);
		}
		snprintf(nm, sizeof(nm), "/race/d%d", i);
		(void)path_req(SSH_FXP_MKDIR, nm);
	}
	ops = i;
	kill(pid, SIGKILL);
	H(waitpid(pid, &st, 0) != pid);
	ok(made > 0, "[%s] race: files created (%d of %d)", w, made, ops);
	{
		struct stat sst;
		int n = 0;

		for (i = 0; i < ops; i++) {
			snprintf(pth, sizeof(pth), "%s/f%d", outside, i);
			n += lstat(pth, &sst) == 0;
			snprintf(pth, sizeof(pth), "%s/d%d", outside, i);
			n += lstat(pth, &sst) == 0;
		}
		is_int(n, 0, "[%s] race: nothing created outside", w);
	}
	sftp_server_free(S);
	S = NULL;
	reset_root();
}

static void
test_fifo(void)
{
	char p[512], msg[128];
	uint32_t id;
	struct buf *b;

	snprintf(p, sizeof(p), "%s/fifo", root);
	H(mkfifo(p, 0644));
	start(0, 0, 0, 0, 0);
	b = req(SSH_FXP_OPEN, &id);
	H(buf_put_cstring(b, "/fifo"));
	H(buf_put_u32(b, SSH_FXF_READ));
	H(buf_put_u32(b, 0));
	is_int(status_of(b, msg, sizeof(msg)), SSH_FX_FAILURE,
	    "a FIFO is refused without blocking (%s)", msg);
	sftp_server_free(S);
	S = NULL;
}

static char logged[4096];

static void
capture(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	size_t len = strlen(logged);

	snprintf(logged + len, sizeof(logged) - len, "%s|", msg);
}

static void
test_logging(void)
{
	start(0, 0, 0, 0, 0);
	logged[0] = '\0';
	log_set_handler(capture, NULL);
	log_set_level(LOGL_INFO);
	is_int(path_req(SSH_FXP_MKDIR, "/evil\nfake: \"line\""), SSH_FX_OK,
	    "mkdir of a name with a newline and quotes");
	log_set_handler(NULL, NULL);
	ok(strstr(logged, "mkdir name \"/evil\\012fake: \\042line\\042\"") !=
	    NULL, "logged with the newline and quotes escaped: %s", logged);
	ok(strchr(logged, '\n') == NULL, "no raw newline reaches the log");
	sftp_server_free(S);
	S = NULL;
}

int
main(void)
{
	char tmpl[] = "/tmp/test-sftp-server.XXXXXX", p[512], *base;

	if ((base = mkdtemp(tmpl)) == NULL)
		return 1;
	snprintf(root, sizeof(root), "%s/root", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	H(mkdir(root, 0755));
	H(mkdir(outside, 0755));
	snprintf(p, sizeof(p), "%s/secret", outside);
	H(close(open(p, O_WRONLY | O_CREAT, 0600)));
	snprintf(p, sizeof(p), "%s/secret", base);
	H(close(open(p, O_WRONLY | O_CREAT, 0600)));

	test_requests();
	test_init();
	test_files(0);
	test_files(1);
	test_malformed();
	test_backpressure();
	test_confinement(0);
	test_confinement(1);
	test_policy();
	test_check_file();
	test_logging();
	test_fifo();
	test_race(0);
	test_race(1);
	snprintf(root, sizeof(root), "%s", base);
	reset_root();
	H(rmdir(base));
	return tap_done();
}
