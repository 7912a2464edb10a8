/*
 * ssh-agent client: against scripted fake agents (refusals, oversized,
 * empty and truncated replies, silence, trailing data, unsupported key
 * types, bad signatures) and against a real OpenSSH ssh-agent started
 * here with keys added by ssh-add: the listing matches, and signatures
 * of every key type, both RSA SHA-2 flags and SHA-1 verify.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ferry/agent.h"
#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "tap.h"

static char dir[] = "/tmp/ferry-agent-XXXXXX";

/*
 * How long a reply that must come may take: generous, since CI runs the
 * tests on a loaded machine under ASan; a reply ends the wait at once.
 */
#define REPLY_MS	60000

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * A fake agent in a child process: it reads one request, waits delay_ms,
 * sends resp (len bytes, framing included) and closes.  Returns the
 * client's end.
 */
static int
fake_agent(const void *resp, size_t len, int delay_ms, pid_t *pidp)
{
	int sv[2];
	uint8_t hdr[4], body[4096];
	uint32_t n;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	if ((pid = fork()) == -1)
		abort();
	if (pid == 0) {
		close(sv[0]);
		if (read(sv[1], hdr, 4) == 4) {
			n = (uint32_t)hdr[0] << 24 | hdr[1] << 16 |
			    hdr[2] << 8 | hdr[3];
			while (n > 0) {
				ssize_t got = read(sv[1], body, n > sizeof(body)
				    ? sizeof(body) : n);
				if (got <= 0)
					_exit(1);
				n -= (uint32_t)got;
			}
		}
		sleep_ms(delay_ms);
		if (len > 0 && write(sv[1], resp, len) != (ssize_t)len)
			_exit(1);
		sleep_ms(100);
		_exit(0);
	}
	close(sv[1]);
	*pidp = pid;
	return sv[0];
}

static void
reap(pid_t pid)
{
	int st;

	kill(pid, SIGTERM);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
}

/* A reply to a list request from a fake agent: the result of agent_list. */
static int
fake_list(const void *resp, size_t len, int delay_ms, int timeout_ms,
    struct agent_identities **idsp, struct agent **keep)
{
	struct agent *ag;
	pid_t pid;
	int fd, r;

	fd = fake_agent(resp, len, delay_ms, &pid);
	if (agent_from_fd(fd, timeout_ms, &ag) != 0)
		abort();
	r = agent_list(ag, idsp);
	reap(pid);
	if (keep != NULL)
		*keep = ag;
	else
		agent_close(ag);
	return r;
}

static void
test_fake(void)
{
	static const uint8_t failure[] = { 0, 0, 0, 1, AGENT_FAILURE };
	static const uint8_t huge[] = { 0, 4, 0, 1, 12 };
	static const uint8_t empty[] = { 0, 0, 0, 0 };
	static const uint8_t truncated[] = { 0, 0, 0, 9, 12, 0, 0 };
	static const uint8_t none[] = { 0, 0, 0, 5, 12, 0, 0, 0, 0 };
	static const uint8_t trailing[] = { 0, 0, 0, 6, 12, 0, 0, 0, 0, 7 };
	static const uint8_t many[] = { 0, 0, 0, 5, 12, 0, 0, 0x10, 0 };
	static const uint8_t wrongtype[] = { 0, 0, 0, 1, AGENT_SIGN_RESPONSE };
	/* One ssh-dss identity (a blob naming the type) with comment "d". */
	static const uint8_t dss[] = {
		0, 0, 0, 25, 12, 0, 0, 0, 1,
		0, 0, 0, 11, 0, 0, 0, 7, 's', 's', 'h', '-', 'd', 's', 's',
		0, 0, 0, 1, 'd',
	};
	struct agent_identities *ids = NULL;
	struct agent *ag;
	struct buf *sig;
	struct key *k = NULL;
	uint8_t resp[64];
	pid_t pid;
	int fd;

	is_int(fake_list(failure, sizeof(failure), 0, REPLY_MS, &ids, &ag),
	    FERR_AGENT, "SSH_AGENT_FAILURE to a listing");
	ok(ids == NULL, "no identities on failure");
	is_int(agent_list(ag, &ids), FERR_CONN_CLOSED,
	    "the fake agent went away after a refusal");
	agent_close(ag);
	is_int(fake_list(huge, sizeof(huge), 0, REPLY_MS, &ids, &ag),
	    FERR_STRING_TOO_LARGE, "a reply over 256 KiB is refused");
	is_int(agent_list(ag, &ids), FERR_CONN_CLOSED,
	    "the connection is closed after a framing error");
	agent_close(ag);
	is_int(fake_list(empty, sizeof(empty), 0, REPLY_MS, &ids, NULL),
	    FERR_FORMAT, "an empty reply");
	is_int(fake_list(truncated, sizeof(truncated), 0, REPLY_MS, &ids, NULL),
	    FERR_CONN_CLOSED, "a truncated reply");
	is_int(fake_list(NULL, 0, 0, REPLY_MS, &ids, NULL), FERR_CONN_CLOSED,
	    "the agent closes without a reply");
	is_int(fake_list(none, sizeof(none), 400, 100, &ids, NULL),
	    FERR_TIMEOUT, "a silent agent times out");
	is_int(fake_list(trailing, sizeof(trailing), 0, REPLY_MS, &ids, NULL),
	    FERR_TRAILING_DATA, "trailing data after the identities");
	is_int(fake_list(many, sizeof(many), 0, REPLY_MS, &ids, NULL),
	    FERR_NUMBER_RANGE, "too many identities");
	is_int(fake_list(wrongtype, sizeof(wrongtype), 0, REPLY_MS, &ids, NULL),
	    FERR_AGENT, "a stray message type");
	is_int(fake_list(none, sizeof(none), 0, REPLY_MS, &ids, NULL), 0,
	    "an agent without identities");
	ok(ids != NULL && ids->n == 0, "zero identities");
	agent_identities_free(ids);
	ids = NULL;
	is_int(fake_list(dss, sizeof(dss), 0, REPLY_MS, &ids, NULL), 0,
	    "an identity of an unsupported type");
	ok(ids != NULL && ids->n == 1 && ids->ids[0].key == NULL &&
	    ids->ids[0].bloblen == 11 &&
	    strcmp(ids->ids[0].comment, "d") == 0,
	    "kept with its blob and comment, without a key");
	agent_identities_free(ids);

	/* A signature that does not verify is refused. */
	if (key_generate(KEY_ED25519, 0, &k) != 0)
		abort();
	memcpy(resp, "\0\0\0\x22\x0e\0\0\0\x1d\0\0\0\x0bssh-ed25519\0\0\0"
	    "\x0a" "ABCDEFGHIJ", 38);
	fd = fake_agent(resp, 38, 0, &pid);
	sig = buf_new();
	if (agent_from_fd(fd, REPLY_MS, &ag) != 0 || sig == NULL)
		abort();
	ok(agent_sign(ag, k, NULL, (const uint8_t *)"x", 1, 0, sig) < 0 &&
	    buf_len(sig) == 0, "a bad signature from the agent is refused");
	reap(pid);
	agent_close(ag);
	buf_free(sig);
	key_free(k);

	is_int(agent_from_fd(-1, 0, &ag), FERR_ARGUMENT, "no fd");
}

/* Run argv with SSH_AUTH_SOCK set, output discarded: its exit status. */
static int
run(char *const argv[], const char *sock)
{
	pid_t pid;
	int st, fd;

	if ((pid = fork()) == -1)
		abort();
	if (pid == 0) {
		setenv("SSH_AUTH_SOCK", sock, 1);
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
have_cmd(const char *name)
{
	char *argv[] = { "sh", "-c", NULL, NULL };
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s", name);
	argv[2] = cmd;
	return run(argv, "") == 0;
}

static const struct {
	enum key_type type;
	unsigned int bits;
	const char *name;
} agent_keys[] = {
	{ KEY_ED25519, 0, "ed25519" },
	{ KEY_ECDSA_P256, 0, "ecdsa256" },
	{ KEY_ECDSA_P384, 0, "ecdsa384" },
	{ KEY_ECDSA_P521, 0, "ecdsa521" },
	{ KEY_RSA, 2048, "rsa" },
};
#define NKEYS (sizeof(agent_keys) / sizeof(agent_keys[0]))

/* Sign through the agent and check the blob's algorithm and validity. */
static void
check_sign(struct agent *ag, const struct key *k, const char *alg,
    unsigned int flags, const char *want_alg, const char *what)
{
	static const uint8_t data[] = "session id and userauth request";
	struct buf *sig = buf_new(), *tmp;
	char *name = NULL;
	int r;

	r = agent_sign(ag, k, alg, data, sizeof(data), flags, sig);
	is_int(r, 0, "%s: the agent signs", what);
	tmp = buf_fromb(sig);
	ok(tmp != NULL && buf_get_cstring(tmp, &name, NULL) == 0 &&
	    strcmp(name, want_alg) == 0, "%s: algorithm %s", what,
	    name ? name : "?");
	is_int(key_verify(k, buf_ptr(sig), buf_len(sig), data, sizeof(data),
	    want_alg, flags), 0, "%s: key_verify accepts it", what);
	free(name);
	buf_free(tmp);
	buf_free(sig);
}

static void
test_real(void)
{
	char sock[256], path[256], *argv[6];
	struct key *keys[NKEYS], *other = NULL;
	struct agent_identities *ids = NULL;
	struct agent *ag = NULL;
	struct buf *file, *sig;
	struct stat st;
	pid_t pid;
	size_t i;
	int tries, r;

	if (!have_cmd("ssh-agent") || !have_cmd("ssh-add")) {
		tap_skip("ssh-agent and ssh-add are not installed");
		return;
	}
	snprintf(sock, sizeof(sock), "%s/agent.sock", dir);
	if ((pid = fork()) == -1)
		abort();
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		if (fd != -1) {
			dup2(fd, 0);
			dup2(fd, 1);
		}
		execlp("ssh-agent", "ssh-agent", "-D", "-a", sock,
		    (char *)NULL);
		_exit(127);
	}
	/*
	 * The socket file appears when ssh-agent binds it, before it
	 * listens: wait (up to 60 s) until a connection is accepted.
	 */
	for (tries = 0; tries < 1200; tries++) {
		if (stat(sock, &st) == 0 && agent_connect(sock, REPLY_MS,
		    &ag) == 0)
			break;
		sleep_ms(50);
	}
	ok(tries < 1200, "ssh-agent -D -a listens");
	agent_close(ag);
	ag = NULL;

	for (i = 0; i < NKEYS; i++) {
		file = buf_new();
		snprintf(path, sizeof(path), "%s/%s", dir, agent_keys[i].name);
		if (key_generate(agent_keys[i].type, agent_keys[i].bits,
		    &keys[i]) != 0 ||
		    key_set_comment(keys[i], agent_keys[i].name) != 0 ||
		    key_write_private(keys[i], NULL, NULL, 0, file) != 0 ||
		    key_write_file(path, file, 0600) != 0)
			abort();
		buf_free(file);
		argv[0] = "ssh-add";
		argv[1] = path;
		argv[2] = NULL;
		is_int(run(argv, sock), 0, "ssh-add %s", agent_keys[i].name);
	}

	is_int(agent_connect(sock, REPLY_MS, &ag), 0, "connect to the agent");
	is_int(agent_list(ag, &ids), 0, "list identities");
	ok(ids != NULL && ids->n == NKEYS, "%zu identities",
	    ids != NULL ? ids->n : 0);
	for (i = 0; ids != NULL && i < ids->n && i < NKEYS; i++) {
		ok(ids->ids[i].key != NULL &&
		    key_equal_public(ids->ids[i].key, keys[i]),
		    "identity %zu is the %s key", i, agent_keys[i].name);
		ok(strcmp(ids->ids[i].comment, agent_keys[i].name) == 0,
		    "identity %zu comment %s", i, ids->ids[i].comment);
	}
	agent_identities_free(ids);

	for (i = 0; i < NKEYS; i++) {
		if (agent_keys[i].type != KEY_RSA) {
			check_sign(ag, keys[i], NULL, 0,
			    key_type_name(agent_keys[i].type),
			    agent_keys[i].name);
			continue;
		}
		check_sign(ag, keys[i], NULL, 0, "rsa-sha2-512",
		    "rsa default");
		check_sign(ag, keys[i], "rsa-sha2-256", 0, "rsa-sha2-256",
		    "rsa SSH_AGENT_RSA_SHA2_256");
		check_sign(ag, keys[i], "rsa-sha2-512", 0, "rsa-sha2-512",
		    "rsa SSH_AGENT_RSA_SHA2_512");
		check_sign(ag, keys[i], "ssh-rsa", KEY_SIG_ALLOW_SHA1,
		    "ssh-rsa", "rsa SHA-1 when allowed");
		sig = buf_new();
		is_int(agent_sign(ag, keys[i], "ssh-rsa", (const uint8_t *)"x",
		    1, 0, sig), FERR_NOT_SUPPORTED,
		    "ssh-rsa is not asked for without KEY_SIG_ALLOW_SHA1");
		is_int(agent_sign(ag, keys[i], "ssh-ed25519",
		    (const uint8_t *)"x", 1, 0, sig), FERR_KEY_TYPE_MISMATCH,
		    "an algorithm of another key type");
		buf_free(sig);
	}

	/* A key the agent does not hold: refused, connection still good. */
	sig = buf_new();
	if (key_generate(KEY_ED25519, 0, &other) != 0)
		abort();
	is_int(agent_sign(ag, other, NULL, (const uint8_t *)"x", 1, 0, sig),
	    FERR_AGENT, "signing with a key the agent lacks is refused");
	r = agent_list(ag, &ids);
	is_int(r, 0, "the connection survives a refusal");
	agent_identities_free(ids);
	ids = NULL;
	buf_free(sig);
	key_free(other);
	agent_close(ag);

	/* SSH_AUTH_SOCK. */
	setenv("SSH_AUTH_SOCK", sock, 1);
	is_int(agent_connect(NULL, 0, &ag), 0, "connect via SSH_AUTH_SOCK");
	agent_close(ag);
	unsetenv("SSH_AUTH_SOCK");
	is_int(agent_connect(NULL, 0, &ag), FERR_AGENT,
	    "no SSH_AUTH_SOCK: FERR_AGENT");
	snprintf(path, sizeof(path), "%s/nothing", dir);
	is_int(agent_connect(path, 0, &ag), FERR_SYSTEM,
	    "a socket that is not there");

	reap(pid);
	for (i = 0; i < NKEYS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, agent_keys[i].name);
		unlink(path);
		key_free(keys[i]);
	}
	unlink(sock);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_fake();
	test_real();
	rmdir(dir);
	return tap_done();
}
