/*
 * Interoperability of the authentication and connection layers with
 * OpenSSH, over pipes, no network:
 *
 *  - our client (transport, auth, conn) against `sshd -i`: publickey
 *    with a refused key then an RSA key (rsa-sha2 from server-sig-algs),
 *    the banner, exec with stdout, stderr and exit-status, 1 MiB to
 *    `wc -c` through our writes, 3 MB from `head -c` through our window
 *    adjustments, keepalive@openssh.com answered with failure;
 *  - OpenSSH's ssh client against our server (this program re-run with
 *    --serve as ssh's ProxyCommand): publickey (ed25519 and RSA),
 *    password and keyboard-interactive (answered through SSH_ASKPASS),
 *    an AuthenticationMethods chain, exec, exit status, and 1 MiB
 *    echoed through a "cat" channel.
 *
 * Skipped when OpenSSH is not installed; the sshd part needs root (its
 * privilege separation), as CI runs.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ferry/auth.h"
#include "ferry/buf.h"
#include "ferry/conn.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/log.h"
#include "ferry/transport.h"
#include "tap.h"

#define SSHD	"/usr/sbin/sshd"
#define SSH	"/usr/bin/ssh"
#define ECHO_TOTAL	(1u << 20)

static char dir[64];

/* ---- a poll loop around one transport ---- */

struct io {
	int in, out;
	struct transport *t;
	int closed;
	time_t deadline;
};

/*
 * How long one session with OpenSSH may take: generous, since CI runs the
 * tests on a loaded machine under ASan; a finished session ends at once.
 */
#define IO_DEADLINE	120

/* Send output, wait for input up to ms, feed it; -1 when finished. */
static int
io_round(struct io *io, int ms)
{
	struct buf *out = transport_output(io->t);
	struct pollfd pf[2];
	uint8_t b[65536];
	ssize_t n;
	int np = 0;

	if (time(NULL) > io->deadline)
		return -1;
	while (buf_len(out) > 0) {
		if ((n = write(io->out, buf_ptr(out), buf_len(out))) < 0) {
			if (errno == EAGAIN)
				break;
			return -1;
		}
		if (buf_consume(out, (size_t)n) != 0)
			return -1;
	}
	if (io->closed)
		return -1;
	pf[np].fd = io->in;
	pf[np++].events = POLLIN;
	if (buf_len(out) > 0) {
		pf[np].fd = io->out;
		pf[np++].events = POLLOUT;
	}
	if (poll(pf, (nfds_t)np, ms) < 0)
		return errno == EINTR ? 0 : -1;
	if (pf[0].revents & (POLLIN | POLLHUP)) {
		if ((n = read(io->in, b, sizeof(b))) <= 0) {
			io->closed = 1;
			return -1;
		}
		if (transport_input(io->t, b, (size_t)n) != 0)
			return -1;
	}
	return 0;
}

static int
spawn(char *const argv[], int in, int out, const char *errpath)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) < 0)
		abort();
	if (pid == 0) {
		if ((fd = open(errpath, O_WRONLY | O_CREAT | O_APPEND, 0600)) < 0 ||
		    dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void
write_text(const char *path, const char *text, mode_t mode)
{
	struct buf *b = buf_new();

	if (b == NULL || buf_put(b, text, strlen(text)) != 0 ||
	    key_write_file(path, b, mode) != 0)
		abort();
	buf_free(b);
}

static void
write_private(const struct key *k, const char *path)
{
	struct buf *b = buf_new();

	if (b == NULL || key_write_private(k, NULL, NULL, 0, b) != 0 ||
	    key_write_file(path, b, 0600) != 0)
		abort();
	buf_free(b);
}

/* Append "type base64\n" of k to b. */
static void
put_pub_line(struct buf *b, const struct key *k)
{
	if (key_format_public_line(k, b) != 0 || buf_put_u8(b, '\n') != 0)
		abort();
}

static void
show_log(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		tap_diag("log: %s", line);
	}
	fclose(f);
}

/* ---- our client against sshd -i ---- */

struct cli {
	struct transport *t;
	struct auth_client *ac;
	struct conn *conn;
	int phase;			/* which exec runs */
	uint32_t chan;
	char out[256], err[256];
	uint64_t rx, rx_nonzero, tx;
	int exit_status, env_reply, got_eof;
	char banner[256];
	int keepalive;			/* 1: failure seen, 2: success */
	int done, authed;
	int results[3];
};

static const char *const cli_cmds[] = {
	"echo hello; echo err >&2; exit 3",
	"wc -c",
	"head -c 3000000 /dev/zero",
};

static void
cli_banner(const char *text, void *ctx)
{
	struct cli *c = ctx;

	snprintf(c->banner, sizeof(c->banner), "%s", text);
}

static void
cli_open_next(struct cli *c)
{
	memset(c->out, 0, sizeof(c->out));
	memset(c->err, 0, sizeof(c->err));
	c->rx = c->rx_nonzero = c->tx = 0;
	c->exit_status = -1;
	c->env_reply = -1;
	c->got_eof = 0;
	if (conn_open(c->conn, "session", NULL, 0, &c->chan) != 0)
		abort();
}

static void
cli_append(char *dst, size_t size, const uint8_t *d, size_t len)
{
	size_t n = strlen(dst);

	if (len > size - 1 - n)
		len = size - 1 - n;
	memcpy(dst + n, d, len);
	dst[n + len] = '\0';
}

static void
cli_event(struct cli *c, struct conn_event *ev)
{
	size_t i;

	switch (ev->type) {
	case CONN_EV_OPENED:
		if (conn_request_env(c->conn, ev->chan, "FERRY_TEST", "1",
		    1) != 0 ||
		    conn_request_exec(c->conn, ev->chan, cli_cmds[c->phase],
		    1) != 0)
			abort();
		break;
	case CONN_EV_REPLY:
		if (c->env_reply < 0)
			c->env_reply = ev->ok;
		break;
	case CONN_EV_DATA:
		c->rx += ev->len;
		for (i = 0; i < ev->len; i++)
			c->rx_nonzero += ev->data[i] != 0;
		if (c->phase != 2)
			cli_append(c->out, sizeof(c->out), ev->data, ev->len);
		break;
	case CONN_EV_EXTENDED_DATA:
		cli_append(c->err, sizeof(c->err), ev->data, ev->len);
		break;
	case CONN_EV_REQUEST:
		if (ev->req == CONN_REQ_EXIT_STATUS)
			c->exit_status = (int)ev->status;
		break;
	case CONN_EV_EOF:
		c->got_eof = 1;
		break;
	case CONN_EV_CLOSE:
		if (c->phase == 0)
			c->results[0] = strcmp(c->out, "hello\n") == 0 &&
			    strcmp(c->err, "err\n") == 0 &&
			    c->exit_status == 3 && c->got_eof &&
			    c->env_reply == 0;
		else if (c->phase == 1)
			c->results[1] = strcmp(c->out, "1048576\n") == 0 &&
			    c->exit_status == 0;
		else
			c->results[2] = c->rx == 3000000 &&
			    c->rx_nonzero == 0 && c->exit_status == 0;
		if (!c->results[c->phase])
			tap_diag("phase %d: out '%s' err '%s' rx %llu exit %d",
			    c->phase, c->out, c->err,
			    (unsigned long long)c->rx, c->exit_status);
		if (++c->phase < 3)
			cli_open_next(c);
		else if (conn_global_request(c->conn,
		    "keepalive@openssh.com", 1) != 0)
			abort();
		break;
	case CONN_EV_GLOBAL_REPLY:
		c->keepalive = ev->ok ? 2 : 1;
		c->done = 1;
		break;
	default:
		break;
	}
}

/* Phase 1 feeds wc -c with 1 MiB through the window. */
static void
cli_idle(struct cli *c)
{
	static uint8_t chunk[40000];
	size_t n, sent;

	if (c->conn == NULL || c->phase != 1 || c->tx >= ECHO_TOTAL ||
	    conn_writable(c->conn, c->chan) == 0)
		return;
	memset(chunk, 'w', sizeof(chunk));
	while (c->tx < ECHO_TOTAL) {
		n = ECHO_TOTAL - c->tx < sizeof(chunk) ?
		    ECHO_TOTAL - c->tx : sizeof(chunk);
		if (conn_write(c->conn, c->chan, chunk, n, &sent) != 0)
			abort();
		c->tx += sent;
		if (sent < n)
			return;
	}
	if (conn_eof(c->conn, c->chan) != 0)
		abort();
}

static int
cli_packet(struct cli *c, struct transport_event *ev)
{
	struct conn_event cev;
	struct conn_config cfg;
	int r;

	if (!c->authed) {
		if ((r = auth_client_input(c->ac, ev->msg, ev->payload)) < 0)
			return r;
		if (r == AUTH_SUCCESS) {
			c->authed = 1;
			memset(&cfg, 0, sizeof(cfg));
			if (conn_new(c->t, &cfg, &c->conn) != 0)
				abort();
			cli_open_next(c);
		}
		return 0;
	}
	if ((r = conn_input(c->conn, ev->msg, ev->payload, &cev)) != 0)
		return r;
	cli_event(c, &cev);
	return 0;
}

static void
test_client_vs_sshd(void)
{
	struct key *host, *refused, *rsa;
	struct key *keys[2];
	struct transport_config tc;
	struct auth_client_config ac;
	struct transport_event ev;
	struct cli c;
	struct io io;
	struct buf *b;
	char cfgpath[128], path[128], log[128], cfg[1024];
	char *argv[6];
	int sv[2], st, r = 0;
	pid_t pid;

	if (geteuid() != 0) {
		tap_skip("sshd -i needs root for privilege separation");
		return;
	}
	(void)mkdir("/run/sshd", 0755);
	if (key_generate(KEY_ED25519, 0, &host) != 0 ||
	    key_generate(KEY_ED25519, 0, &refused) != 0 ||
	    key_generate(KEY_RSA, 2048, &rsa) != 0)
		abort();
	snprintf(path, sizeof(path), "%s/host", dir);
	write_private(host, path);
	snprintf(path, sizeof(path), "%s/authorized_keys", dir);
	if ((b = buf_new()) == NULL)
		abort();
	put_pub_line(b, rsa);
	if (key_write_file(path, b, 0644) != 0)
		abort();
	buf_free(b);
	snprintf(path, sizeof(path), "%s/banner", dir);
	write_text(path, "Ferry interop banner\n", 0644);
	snprintf(cfg, sizeof(cfg),
	    "HostKey %s/host\nAuthorizedKeysFile %s/authorized_keys\n"
	    "Banner %s/banner\nUsePAM no\nStrictModes no\n"
	    "PermitRootLogin yes\nPasswordAuthentication no\n"
	    "KbdInteractiveAuthentication no\nLogLevel ERROR\n"
	    "PidFile none\n", dir, dir, dir);
	snprintf(cfgpath, sizeof(cfgpath), "%s/sshd_config", dir);
	write_text(cfgpath, cfg, 0644);
	snprintf(log, sizeof(log), "%s/sshd.log", dir);

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		abort();
	argv[0] = SSHD;
	argv[1] = "-i";
	argv[2] = "-e";
	argv[3] = "-f";
	argv[4] = cfgpath;
	argv[5] = NULL;
	pid = spawn(argv, sv[1], sv[1], log);
	close(sv[1]);
	(void)fcntl(sv[0], F_SETFL, O_NONBLOCK);

	memset(&c, 0, sizeof(c));
	memset(&tc, 0, sizeof(tc));
	/*
	 * chacha20-poly1305 first: OpenSSH sends it 12-byte packets
	 * (packet_length 8, USERAUTH_SUCCESS), which the packet layer must
	 * accept.  FERRY_TEST_CIPHER overrides.
	 */
	tc.ciphers = getenv("FERRY_TEST_CIPHER") != NULL ?
	    getenv("FERRY_TEST_CIPHER") : "chacha20-poly1305@openssh.com";
	keys[0] = refused;
	keys[1] = rsa;
	memset(&ac, 0, sizeof(ac));
	ac.user = "root";
	ac.keys = keys;
	ac.nkeys = 2;
	ac.banner = cli_banner;
	ac.ctx = &c;
	if (transport_new(&tc, &c.t) != 0 ||
	    auth_client_new(c.t, &ac, &c.ac) != 0 ||
	    auth_client_start(c.ac) != 0)
		abort();
	io.in = io.out = sv[0];
	io.t = c.t;
	io.closed = 0;
	io.deadline = time(NULL) + IO_DEADLINE;
	while (!c.done && r == 0 && io_round(&io, 200) == 0) {
		while ((r = transport_poll(c.t, &ev)) == 0 &&
		    ev.type != TRANSPORT_EV_NONE) {
			if (ev.type == TRANSPORT_EV_DISCONNECT) {
				tap_diag("sshd disconnected: %s", ev.description);
				r = FERR_DISCONNECTED;
				break;
			}
			if (ev.type == TRANSPORT_EV_PACKET &&
			    (r = cli_packet(&c, &ev)) != 0)
				break;
		}
		cli_idle(&c);
	}
	ok(c.authed && strcmp(auth_client_method(c.ac), "publickey") == 0,
	    "sshd: publickey with RSA after a refused key");
	if (r != 0 || !c.authed) {
		tap_diag("error %d (%s), transport: %s", r, err_str(r),
		    transport_error(c.t));
		show_log(log);
	}
	ok(strcmp(c.banner, "Ferry interop banner\n") == 0, "sshd: banner");
	ok(c.results[0], "sshd: exec with stdout, stderr, exit-status 3; env refused");
	ok(c.results[1], "sshd: 1 MiB written to wc -c");
	ok(c.results[2], "sshd: 3 MB from head -c through our window");
	ok(c.keepalive == 1, "sshd: keepalive@openssh.com answered");
	auth_client_free(c.ac);
	conn_free(c.conn);
	transport_free(c.t);
	close(sv[0]);
	(void)waitpid(pid, &st, 0);
	key_free(host);
	key_free(refused);
	key_free(rsa);
}

/* ---- our server under ssh's ProxyCommand ---- */

struct srv {
	struct transport *t;
	struct auth_server *as;
	struct conn *conn;
	struct key *allowed[2];
	struct buf *pending;		/* cat: echoed data not yet sent */
	uint32_t cat_chan;
	int cat, cat_eof, authed;
};

static int
srv_password(const char *user, const char *pw, void *ctx)
{
	(void)user;
	(void)ctx;
	return strcmp(pw, "sesame") == 0;
}

static int
srv_kbdint(struct auth_kbdint *conv, const char *user, void *ctx)
{
	(void)user;
	(void)ctx;
	if (auth_kbdint_round(conv) > 0)
		return auth_kbdint_nresponses(conv) == 1 &&
		    strcmp(auth_kbdint_response(conv, 0), "sesame") == 0 ?
		    AUTH_KBDINT_SUCCESS : AUTH_KBDINT_FAILURE;
	if (auth_kbdint_set_text(conv, "", "Ferry test") != 0 ||
	    auth_kbdint_add_prompt(conv, "Code: ", 0) != 0)
		return -1;
	return AUTH_KBDINT_PROMPT;
}

static int
srv_pubkey(const char *user, const struct key *key, void *ctx)
{
	struct srv *s = ctx;

	(void)user;
	return key_equal_public(key, s->allowed[0]) ||
	    key_equal_public(key, s->allowed[1]);
}

static void
srv_finish(struct srv *s, uint32_t chan, uint32_t status)
{
	if (conn_send_exit_status(s->conn, chan, status) != 0 ||
	    conn_eof(s->conn, chan) != 0 || conn_close(s->conn, chan) != 0)
		exit(2);
}

/* cat: send what is pending, consume (grow the window) as it goes. */
static void
srv_flush(struct srv *s)
{
	size_t sent;

	if (!s->cat || buf_len(s->pending) == 0)
		goto eof;
	if (conn_write(s->conn, s->cat_chan, buf_ptr(s->pending),
	    buf_len(s->pending), &sent) != 0 ||
	    buf_consume(s->pending, sent) != 0 ||
	    conn_consumed(s->conn, s->cat_chan, sent) != 0)
		exit(2);
 eof:
	if (s->cat && s->cat_eof && buf_len(s->pending) == 0) {
		s->cat = 0;
		srv_finish(s, s->cat_chan, 0);
	}
}

static void
srv_event(struct srv *s, struct conn_event *ev)
{
	static const char hello[] = "hello from ferry\n";
	size_t sent;
	int code;

	switch (ev->type) {
	case CONN_EV_OPEN_REQUEST:
		if (conn_open_accept(s->conn, ev->chan) != 0)
			exit(2);
		break;
	case CONN_EV_REQUEST:
		if (ev->req != CONN_REQ_EXEC) {
			if (ev->want_reply && conn_reply(s->conn, ev->chan,
			    ev->req == CONN_REQ_ENV) != 0)
				exit(2);
			break;
		}
		if (ev->want_reply && conn_reply(s->conn, ev->chan, 1) != 0)
			exit(2);
		if (strcmp(ev->text, "hello") == 0) {
			if (conn_write(s->conn, ev->chan, hello,
			    sizeof(hello) - 1, &sent) != 0)
				exit(2);
			srv_finish(s, ev->chan, 0);
		} else if (sscanf(ev->text, "exit %d", &code) == 1)
			srv_finish(s, ev->chan, (uint32_t)code);
		else if (strcmp(ev->text, "cat") == 0) {
			s->cat = 1;
			s->cat_chan = ev->chan;
		} else
			srv_finish(s, ev->chan, 127);
		break;
	case CONN_EV_DATA:
		if (s->cat && ev->chan == s->cat_chan &&
		    buf_put(s->pending, ev->data, ev->len) != 0)
			exit(2);
		if (!s->cat && conn_consumed(s->conn, ev->chan, ev->len) != 0)
			exit(2);
		break;
	case CONN_EV_EOF:
		if (s->cat && ev->chan == s->cat_chan)
			s->cat_eof = 1;
		break;
	default:
		break;
	}
}

/* --serve HOSTKEY PUB1 PUB2 METHODS: one connection on stdin/stdout. */
static int
serve(char **argv)
{
	struct transport_config tc;
	struct auth_server_config sc;
	struct conn_config cc;
	struct transport_event ev;
	struct conn_event cev;
	struct key *host;
	struct buf *f;
	struct srv s;
	struct io io;
	int r = 0, i;

	memset(&s, 0, sizeof(s));
	if (key_read_file(argv[0], 0, &f) != 0 ||
	    key_parse_private(f, NULL, &host) != 0)
		return 2;
	buf_free(f);
	for (i = 0; i < 2; i++) {
		char line[8192];
		FILE *fp = fopen(argv[1 + i], "r");

		if (fp == NULL || fgets(line, sizeof(line), fp) == NULL ||
		    key_parse_public_line(line, &s.allowed[i]) != 0)
			return 2;
		fclose(fp);
	}
	memset(&tc, 0, sizeof(tc));
	tc.server = 1;
	tc.hostkeys = &host;
	tc.nhostkeys = 1;
	memset(&sc, 0, sizeof(sc));
	sc.pubkey_allowed = srv_pubkey;
	sc.password = srv_password;
	sc.kbdint = srv_kbdint;
	sc.methods = argv[3];
	sc.banner = "ferry server banner\n";
	sc.ctx = &s;
	memset(&cc, 0, sizeof(cc));
	cc.server = 1;
	cc.window = 256 * 1024;
	cc.manual_window = 1;
	if (transport_new(&tc, &s.t) != 0 ||
	    auth_server_new(s.t, &sc, &s.as) != 0 ||
	    (s.pending = buf_new()) == NULL)
		return 2;
	io.in = 0;
	io.out = 1;
	io.t = s.t;
	io.closed = 0;
	io.deadline = time(NULL) + IO_DEADLINE;
	(void)fcntl(1, F_SETFL, O_NONBLOCK);
	while (r == 0 && io_round(&io, 200) == 0) {
		while ((r = transport_poll(s.t, &ev)) == 0 &&
		    ev.type == TRANSPORT_EV_PACKET) {
			if (!s.authed) {
				r = auth_server_input(s.as, ev.msg, ev.payload);
				if (r == AUTH_SUCCESS) {
					s.authed = 1;
					if (conn_new(s.t, &cc, &s.conn) != 0)
						return 2;
				}
				r = r < 0 ? r : 0;
			} else if ((r = conn_input(s.conn, ev.msg, ev.payload,
			    &cev)) == 0)
				srv_event(&s, &cev);
			if (r != 0)
				break;
		}
		if (ev.type == TRANSPORT_EV_DISCONNECT)
			break;
		if (s.conn != NULL)
			srv_flush(&s);
	}
	/* Send what is left (a DISCONNECT after an error). */
	(void)io_round(&io, 0);
	buf_free(s.pending);
	auth_server_free(s.as);
	conn_free(s.conn);
	transport_free(s.t);
	key_free(host);
	key_free(s.allowed[0]);
	key_free(s.allowed[1]);
	return r < 0 && r != FERR_CONN_CLOSED ? 1 : 0;
}

/* Run ssh with a command; stdin from inpath; returns the exit status. */
static int
run_ssh(const char *self, const char *idfile, const char *cmd,
    const char *inpath, const char *outpath, const char *methods,
    const char *preferred)
{
	char prefopt[128];
	char proxy[PATH_MAX + 512], idopt[256];
	char *argv[32];
	int in, out, st, n = 0;
	pid_t pid;

	snprintf(proxy, sizeof(proxy), "ProxyCommand=%s --serve %s/host "
	    "%s/ed.pub %s/rsa.pub %s", self, dir, dir, dir,
	    methods != NULL ? methods : "any");
	snprintf(prefopt, sizeof(prefopt), "PreferredAuthentications=%s",
	    preferred != NULL ? preferred :
	    "publickey,keyboard-interactive,password");
	snprintf(idopt, sizeof(idopt), "%s", idfile);
	argv[n++] = SSH;
	argv[n++] = "-F";
	argv[n++] = "/dev/null";
	argv[n++] = "-i";
	argv[n++] = idopt;
	argv[n++] = "-o";
	argv[n++] = "IdentitiesOnly=yes";
	argv[n++] = "-o";
	argv[n++] = "BatchMode=no";
	argv[n++] = "-o";
	argv[n++] = "NumberOfPasswordPrompts=1";
	argv[n++] = "-o";
	argv[n++] = prefopt;
	argv[n++] = "-o";
	argv[n++] = "StrictHostKeyChecking=no";
	argv[n++] = "-o";
	argv[n++] = "UserKnownHostsFile=/dev/null";
	argv[n++] = "-o";
	argv[n++] = "LogLevel=ERROR";
	argv[n++] = "-o";
	argv[n++] = proxy;
	argv[n++] = "ferry-test";
	argv[n++] = (char *)cmd;
	argv[n] = NULL;
	if ((in = open(inpath, O_RDONLY)) < 0 ||
	    (out = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		abort();
	pid = spawn(argv, in, out, "/dev/null");
	close(in);
	close(out);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int
file_equals(const char *path, const void *want, size_t len)
{
	struct buf *b;
	int same;

	if (key_read_file(path, 4u << 20, &b) != 0)
		return 0;
	same = buf_len(b) == len && memcmp(buf_ptr(b), want, len) == 0;
	buf_free(b);
	return same;
}

static void
test_ssh_vs_server(const char *self)
{
	struct key *host, *ed, *rsa;
	struct buf *b;
	char path[128], in[128], out[128], edid[128], rsaid[128];
	uint8_t *data;
	size_t i;
	int st;

	if (key_generate(KEY_ED25519, 0, &host) != 0 ||
	    key_generate(KEY_ED25519, 0, &ed) != 0 ||
	    key_generate(KEY_RSA, 2048, &rsa) != 0)
		abort();
	snprintf(path, sizeof(path), "%s/host", dir);
	write_private(host, path);
	snprintf(edid, sizeof(edid), "%s/ed", dir);
	write_private(ed, edid);
	snprintf(rsaid, sizeof(rsaid), "%s/rsa", dir);
	write_private(rsa, rsaid);
	if ((b = buf_new()) == NULL)
		abort();
	put_pub_line(b, ed);
	snprintf(path, sizeof(path), "%s/ed.pub", dir);
	if (key_write_file(path, b, 0644) != 0)
		abort();
	buf_reset(b);
	put_pub_line(b, rsa);
	snprintf(path, sizeof(path), "%s/rsa.pub", dir);
	if (key_write_file(path, b, 0644) != 0)
		abort();
	buf_reset(b);
	snprintf(in, sizeof(in), "%s/empty", dir);
	write_text(in, "", 0600);
	snprintf(out, sizeof(out), "%s/out", dir);
	/* ssh never prompts on a terminal: answers come from SSH_ASKPASS. */
	snprintf(path, sizeof(path), "%s/askpass", dir);
	write_text(path, "#!/bin/sh\nexit 1\n", 0755);
	if (setenv("SSH_ASKPASS", path, 1) != 0 ||
	    setenv("SSH_ASKPASS_REQUIRE", "force", 1) != 0)
		abort();

	st = run_ssh(self, edid, "hello", in, out, NULL, NULL);
	ok(st == 0 && file_equals(out, "hello from ferry\n", 17),
	    "ssh: publickey ed25519, exec output (status %d)", st);
	st = run_ssh(self, rsaid, "exit 7", in, out, NULL, NULL);
	is_int(st, 7, "ssh: publickey RSA, exit status carried");
	/* 1 MiB through cat: ssh's window and ours, both ways. */
	if (buf_reserve(b, ECHO_TOTAL, &data) != 0)
		abort();
	for (i = 0; i < ECHO_TOTAL; i++)
		data[i] = (uint8_t)((i * 7) ^ (i >> 11));
	snprintf(in, sizeof(in), "%s/in", dir);
	if (key_write_file(in, b, 0600) != 0)
		abort();
	st = run_ssh(self, edid, "cat", in, out, NULL, NULL);
	ok(st == 0 && file_equals(out, buf_ptr(b), ECHO_TOTAL),
	    "ssh: 1 MiB echoed byte-exact through cat");
	/* Password and keyboard-interactive answered by SSH_ASKPASS. */
	write_text(path, "#!/bin/sh\necho sesame\n", 0755);
	snprintf(in, sizeof(in), "%s/empty", dir);
	st = run_ssh(self, edid, "hello", in, out, "password", "password");
	ok(st == 0 && file_equals(out, "hello from ferry\n", 17),
	    "ssh: password accepted (status %d)", st);
	st = run_ssh(self, edid, "hello", in, out, "keyboard-interactive",
	    "keyboard-interactive");
	ok(st == 0 && file_equals(out, "hello from ferry\n", 17),
	    "ssh: keyboard-interactive accepted (status %d)", st);
	st = run_ssh(self, edid, "hello", in, out,
	    "publickey,keyboard-interactive", NULL);
	ok(st == 0 && file_equals(out, "hello from ferry\n", 17),
	    "ssh: chain publickey,keyboard-interactive (partial success)");
	st = run_ssh(self, edid, "hello", in, out, "publickey,password",
	    "publickey");
	is_int(st, 255, "ssh: publickey alone does not complete the chain");
	write_text(path, "#!/bin/sh\necho wrong\n", 0755);
	st = run_ssh(self, edid, "hello", in, out, "password", "password");
	is_int(st, 255, "ssh: a wrong password is refused");
	write_text(path, "#!/bin/sh\nexit 1\n", 0755);
	/* A key the server does not know. */
	key_free(ed);
	if (key_generate(KEY_ED25519, 0, &ed) != 0)
		abort();
	write_private(ed, edid);
	st = run_ssh(self, edid, "hello", in, out, NULL, NULL);
	is_int(st, 255, "ssh: an unknown key is refused");
	buf_free(b);
	key_free(host);
	key_free(ed);
	key_free(rsa);
	(void)unsetenv("SSH_ASKPASS");
	(void)unsetenv("SSH_ASKPASS_REQUIRE");
}

static void
cleanup(void)
{
	static const char *const names[] = {
		"host", "authorized_keys", "banner", "sshd_config", "sshd.log",
		"ed", "rsa", "ed.pub", "rsa.pub", "empty", "in", "out", "askpass",
	};
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		(void)unlink(path);
	}
	(void)rmdir(dir);
}

static void
log_stderr(enum log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	fprintf(stderr, "%s\n", msg);
}

int
main(int argc, char **argv)
{
	char self[PATH_MAX];

	/* FERRY_TEST_DEBUG=1 shows the library's messages on stderr. */
	if (getenv("FERRY_TEST_DEBUG") != NULL) {
		log_set_handler(log_stderr, NULL);
		log_set_level(LOGL_DEBUG3);
	}

	if (argc == 6 && strcmp(argv[1], "--serve") == 0)
		return serve(argv + 2);
	signal(SIGPIPE, SIG_IGN);
	if (access(SSHD, X_OK) != 0 || access(SSH, X_OK) != 0) {
		tap_skip("OpenSSH (%s, %s) is not installed", SSHD, SSH);
		return tap_done();
	}
	if (realpath(argv[0], self) == NULL)
		abort();
	snprintf(dir, sizeof(dir), "/tmp/ferry-conn.XXXXXX");
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) != 0)
		abort();
	test_client_vs_sshd();
	test_ssh_vs_server(self);
	cleanup();
	return tap_done();
}
