/*
 * The SSH-2 transport engine (RFC 4253): version exchange, dispatch of
 * transport messages, holding upper-layer messages during a key exchange,
 * rekeying, ext-info (RFC 8308) and ping@openssh.com.  Key exchange
 * itself is in kex.c.  See ferry/transport.h for the contract.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cipher.h"
#include "ferry/err.h"
#include "ferry/key-cert.h"
#include "ferry/key.h"
#include "ferry/log.h"
#include "ferry/transport.h"
#include "kexalg.h"
#include "mac.h"
#include "packet.h"
#include "transport-int.h"

/* RFC 4253 4.2: at most 255 bytes including CR LF. */
#define TRANSPORT_VERSION_MAX	255
/* Lines a client accepts before the server's identification. */
#define TRANSPORT_BANNER_LINES	1024
/* EXT_INFO entries accepted (RFC 8308 has a handful). */
#define TRANSPORT_EXT_MAX	64
/* Default rekey limit in bytes. */
#define TRANSPORT_REKEY_BYTES	((uint64_t)1 << 30)
/* Stop reading input while this much output waits: back-pressure. */
#define TRANSPORT_OUT_HIGH	(PACKET_BUF_MAX / 2)

#define TRANSPORT_COMP_SUPPORTED	"none,zlib@openssh.com,zlib"
/*
 * A server's defaults are stricter than a client's: no ECDH over the NIST
 * curves, no 64-bit UMAC tags and no encrypt-and-MAC modes, which
 * ssh-audit's hardening guidance (and Ferry's test of it) rejects.  Every
 * current client (OpenSSH since 6.5, paramiko, PuTTY) has curve25519 and
 * the -etm MACs.  A configuration adds the others back with '+'.
 */
#define TRANSPORT_SERVER_KEX \
	"curve25519-sha256,curve25519-sha256@libssh.org," \
	"diffie-hellman-group-exchange-sha256," \
	"diffie-hellman-group16-sha512,diffie-hellman-group18-sha512," \
	"diffie-hellman-group14-sha256"
#define TRANSPORT_SERVER_MACS \
	"umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com," \
	"hmac-sha2-512-etm@openssh.com"
#define TRANSPORT_SIG_ALGS_DEFAULT \
	"ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384," \
	"ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256"

#define TRANSPORT_CERT_ALGS_DEFAULT \
	"ssh-ed25519-cert-v01@openssh.com," \
	"ecdsa-sha2-nistp256-cert-v01@openssh.com," \
	"ecdsa-sha2-nistp384-cert-v01@openssh.com," \
	"ecdsa-sha2-nistp521-cert-v01@openssh.com," \
	"rsa-sha2-512-cert-v01@openssh.com," \
	"rsa-sha2-256-cert-v01@openssh.com"

/*
 * Host key algorithms: name, key type, legacy (off by default), and for
 * the certificate ones (PROTOCOL.certkeys) the signature algorithm of
 * the certified key that signs the exchange hash.
 */
static const struct {
	const char *name;
	enum key_type type;
	int legacy;
	const char *cert_sigalg;	/* NULL: a plain key algorithm */
} transport_hostkey_algs[] = {
	{ "ssh-ed25519-cert-v01@openssh.com", KEY_ED25519, 0, "ssh-ed25519" },
	{ "ecdsa-sha2-nistp256-cert-v01@openssh.com", KEY_ECDSA_P256, 0,
	    "ecdsa-sha2-nistp256" },
	{ "ecdsa-sha2-nistp384-cert-v01@openssh.com", KEY_ECDSA_P384, 0,
	    "ecdsa-sha2-nistp384" },
	{ "ecdsa-sha2-nistp521-cert-v01@openssh.com", KEY_ECDSA_P521, 0,
	    "ecdsa-sha2-nistp521" },
	{ "rsa-sha2-512-cert-v01@openssh.com", KEY_RSA, 0, "rsa-sha2-512" },
	{ "rsa-sha2-256-cert-v01@openssh.com", KEY_RSA, 0, "rsa-sha2-256" },
	{ "ssh-rsa-cert-v01@openssh.com", KEY_RSA, 1, "ssh-rsa" },
	{ "ssh-ed25519", KEY_ED25519, 0, NULL },
	{ "ecdsa-sha2-nistp256", KEY_ECDSA_P256, 0, NULL },
	{ "ecdsa-sha2-nistp384", KEY_ECDSA_P384, 0, NULL },
	{ "ecdsa-sha2-nistp521", KEY_ECDSA_P521, 0, NULL },
	{ "rsa-sha2-512", KEY_RSA, 0, NULL },
	{ "rsa-sha2-256", KEY_RSA, 0, NULL },
	{ "ssh-rsa", KEY_RSA, 1, NULL },
};
#define TRANSPORT_NHOSTKEY_ALGS \
	(sizeof(transport_hostkey_algs) / sizeof(transport_hostkey_algs[0]))

const char *
transport_hostkey_alg_default(void)
{
	return TRANSPORT_SIG_ALGS_DEFAULT;
}

int
transport_hostkey_alg_type(const char *name)
{
	size_t i;

	for (i = 0; i < TRANSPORT_NHOSTKEY_ALGS; i++)
		if (strcmp(transport_hostkey_algs[i].name, name) == 0)
			return (int)transport_hostkey_algs[i].type;
	return -1;
}

int
transport_hostkey_alg_legacy(const char *name)
{
	size_t i;

	for (i = 0; i < TRANSPORT_NHOSTKEY_ALGS; i++)
		if (strcmp(transport_hostkey_algs[i].name, name) == 0)
			return transport_hostkey_algs[i].legacy;
	return 0;
}

const char *
transport_hostkey_alg_sigalg(const char *name)
{
	size_t i;

	for (i = 0; i < TRANSPORT_NHOSTKEY_ALGS; i++)
		if (strcmp(transport_hostkey_algs[i].name, name) == 0)
			return transport_hostkey_algs[i].cert_sigalg != NULL ?
			    transport_hostkey_algs[i].cert_sigalg :
			    transport_hostkey_algs[i].name;
	return NULL;
}

int
transport_hostkey_alg_is_cert(const char *name)
{
	size_t i;

	for (i = 0; i < TRANSPORT_NHOSTKEY_ALGS; i++)
		if (strcmp(transport_hostkey_algs[i].name, name) == 0)
			return transport_hostkey_algs[i].cert_sigalg != NULL;
	return 0;
}

const char *
transport_hostkey_cert_algs(void)
{
	return TRANSPORT_CERT_ALGS_DEFAULT;
}

static char *
transport_hostkey_alg_names(void)
{
	struct buf *b = buf_new();
	char *s = NULL;
	size_t i;

	if (b == NULL)
		return NULL;
	for (i = 0; i < TRANSPORT_NHOSTKEY_ALGS; i++)
		if (buf_putf(b, "%s%s", i ? "," : "",
		    transport_hostkey_algs[i].name) != 0)
			goto out;
	s = buf_dup_string(b);
 out:
	buf_free(b);
	return s;
}

/* ---- algorithm lists ---- */

static int
transport_list_has(const char *list, const char *name, size_t n)
{
	const char *p = list;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
		if ((p = strchr(p, ',')) != NULL)
			p++;
	}
	return 0;
}

/* Append each name of src to b unless skip says no; returns 0 or error. */
static int
transport_list_append(struct buf *b, const char *src, const char *except,
    const char *unless_in)
{
	const char *p = src, *e;
	size_t n;
	int r;

	while (*p != '\0') {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n != 0 && (except == NULL || !transport_list_has(except, p, n)) &&
		    (unless_in == NULL || !transport_list_has(unless_in, p, n)) &&
		    !transport_list_has((const char *)buf_ptr(b), p, n)) {
			if ((r = buf_putf(b, "%s%.*s", buf_len(b) ? "," : "",
			    (int)n, p)) != 0)
				return r;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int
transport_assemble_list(const char *defaults, const char *supported,
    const char *spec, char **outp)
{
	struct buf *b = NULL;
	const char *names, *p, *e;
	char op = '\0';
	size_t n;
	int r;

	*outp = NULL;
	if (spec == NULL)
		spec = defaults;
	if (*spec == '+' || *spec == '-' || *spec == '^')
		op = *spec++;
	names = spec;
	/* Every name must be supported (no wildcards yet). */
	for (p = names; *p != '\0'; p += n + (p[n] == ',')) {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0 || !transport_list_has(supported, p, n))
			return FERR_CONFIG;
	}
	if ((b = buf_new()) == NULL)
		return FERR_ALLOC;
	/* buf_ptr of an empty buffer is "", so lookups work from the start. */
	if ((r = buf_put_u8(b, 0)) != 0 || (r = buf_consume_end(b, 1)) != 0)
		goto out;
	switch (op) {
	case '+':
		r = transport_list_append(b, defaults, NULL, NULL);
		if (r == 0)
			r = transport_list_append(b, names, NULL, NULL);
		break;
	case '-':
		r = transport_list_append(b, defaults, names, NULL);
		break;
	case '^':
		r = transport_list_append(b, names, NULL, NULL);
		if (r == 0)
			r = transport_list_append(b, defaults, NULL, NULL);
		break;
	default:
		r = transport_list_append(b, names, NULL, NULL);
		break;
	}
	if (r != 0)
		goto out;
	if (buf_len(b) == 0) {
		r = FERR_CONFIG;
		goto out;
	}
	if ((*outp = buf_dup_string(b)) == NULL)
		r = FERR_ALLOC;
 out:
	buf_free(b);
	return r;
}

/* Defaults (a client's or a server's) and supported lists of a kind. */
static int
transport_kind_lists(const char *kind, int server, char **defp, char **allp)
{
	*defp = *allp = NULL;
	if (strcmp(kind, "kex") == 0) {
		*defp = strdup(server ? TRANSPORT_SERVER_KEX : KEXALG_DEFAULT);
		*allp = kexalg_names(1);
	} else if (strcmp(kind, "key") == 0) {
		/*
		 * Certificates first, as OpenSSH's default has them: a server
		 * offers only those it holds certificates for; ssh's client
		 * puts them after the plain ones unless a @cert-authority
		 * entry names the host (client.c).
		 */
		*defp = strdup(TRANSPORT_CERT_ALGS_DEFAULT ","
		    TRANSPORT_SIG_ALGS_DEFAULT);
		*allp = transport_hostkey_alg_names();
	} else if (strcmp(kind, "cipher") == 0) {
		*defp = strdup(cipher_default_list());
		*allp = cipher_alg_list(',', 1);
	} else if (strcmp(kind, "mac") == 0) {
		*defp = strdup(server ? TRANSPORT_SERVER_MACS : mac_default_list());
		*allp = mac_alg_list(',', 1);
	} else if (strcmp(kind, "compression") == 0) {
		*defp = strdup("none");
		*allp = strdup(TRANSPORT_COMP_SUPPORTED);
	} else
		return FERR_ARGUMENT;
	if (*defp == NULL || *allp == NULL) {
		free(*defp);
		free(*allp);
		*defp = *allp = NULL;
		return FERR_ALLOC;
	}
	return 0;
}

char *
transport_query(const char *kind, int what)
{
	char *def, *sup;

	if (transport_kind_lists(kind, what == TRANSPORT_QUERY_SERVER, &def,
	    &sup) != 0)
		return NULL;
	if (what == TRANSPORT_QUERY_ALL) {
		free(def);
		return sup;
	}
	free(sup);
	return def;
}

/* ---- construction ---- */

/*
 * Pair each host certificate with the host key it certifies: a host
 * certificate whose key is not among the host keys is a configuration
 * error.
 */
static int
transport_pair_certs(struct transport *t, const struct transport_config *cfg)
{
	size_t i, j;

	if (cfg->nhostcerts == 0)
		return 0;
	if (cfg->hostcerts == NULL)
		return FERR_ARGUMENT;
	if ((t->hostcert_key = calloc(cfg->nhostcerts,
	    sizeof(*t->hostcert_key))) == NULL)
		return FERR_ALLOC;
	for (i = 0; i < cfg->nhostcerts; i++) {
		if (cfg->hostcerts[i] == NULL ||
		    cfg->hostcerts[i]->type != KEY_CERT_HOST)
			return FERR_CONFIG;
		for (j = 0; j < t->nhostkeys; j++)
			if (key_equal_public(t->hostkeys[j],
			    cfg->hostcerts[i]->key))
				break;
		if (j == t->nhostkeys)
			return FERR_CONFIG;
		t->hostcert_key[i] = j;
	}
	t->hostcerts = cfg->hostcerts;
	t->nhostcerts = cfg->nhostcerts;
	return 0;
}

static const char *const transport_kinds[5] = {
	"kex", "key", "cipher", "mac", "compression",
};

int
transport_setup(const struct transport_config *cfg, struct transport **tp)
{
	const char *specs[5];
	struct transport *t;
	char *def = NULL, *sup = NULL;
	size_t i;
	int r;

	*tp = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return FERR_ALLOC;
	specs[0] = cfg->kex_algorithms;
	specs[1] = cfg->hostkey_algorithms;
	specs[2] = cfg->ciphers;
	specs[3] = cfg->macs;
	specs[4] = cfg->compression;
	for (i = 0; i < 5; i++) {
		if ((r = transport_kind_lists(transport_kinds[i], cfg->server,
		    &def, &sup)) != 0)
			goto fail;
		r = transport_assemble_list(def, sup, specs[i], &t->lists[i]);
		free(def);
		free(sup);
		if (r != 0)
			goto fail;
	}
	t->server = cfg->server;
	t->rekey_bytes = cfg->rekey_bytes;
	t->rekey_seconds = cfg->rekey_seconds;
	t->hostkeys = cfg->hostkeys;
	t->nhostkeys = cfg->nhostkeys;
	t->hostkey_sign = cfg->hostkey_sign;
	t->hostkey_sign_ctx = cfg->hostkey_sign_ctx;
	t->hostkey_check = cfg->hostkey_check;
	t->hostcert_check = cfg->hostcert_check;
	t->hostkey_ctx = cfg->hostkey_ctx;
	if ((r = transport_pair_certs(t, cfg)) != 0)
		goto fail;
	t->moduli_text = cfg->moduli_text;
	if ((cfg->moduli_file != NULL &&
	    (t->moduli_file = strdup(cfg->moduli_file)) == NULL) ||
	    (t->server_sig_algs_out = strdup(cfg->server_sig_algs != NULL ?
	    cfg->server_sig_algs : TRANSPORT_SIG_ALGS_DEFAULT)) == NULL ||
	    (t->pkt = packet_new()) == NULL || (t->queue = buf_new()) == NULL ||
	    (t->upper = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto fail;
	}
	{
		char line[TRANSPORT_VERSION_MAX];
		int n = snprintf(line, sizeof(line), "SSH-2.0-%s",
		    cfg->version != NULL ? cfg->version : "Ferry_" PACKAGE_VERSION);

		if (n < 0 || (size_t)n > TRANSPORT_VERSION_MAX - 2) {
			r = FERR_CONFIG;
			goto fail;
		}
		if ((t->my_version = strdup(line)) == NULL) {
			r = FERR_ALLOC;
			goto fail;
		}
	}
	t->now = time(NULL);
	*tp = t;
	return 0;
 fail:
	transport_free(t);
	return r;
}

int
transport_new(const struct transport_config *cfg, struct transport **tp)
{
	struct transport *t;
	int r;

	*tp = NULL;
	if ((r = transport_setup(cfg, &t)) != 0)
		return r;
	/*
	 * A client's KEXINIT (and guessed first kex packet) need nothing
	 * from the server: they go out with its version line (RFC 4253
	 * 4.2, 7.1) instead of a round trip later.
	 */
	if ((r = buf_putf(packet_output(t->pkt), "%s\r\n",
	    t->my_version)) != 0 ||
	    (!t->server && (r = kex_start(t)) != 0)) {
		transport_free(t);
		return r;
	}
	*tp = t;
	return 0;
}

void
transport_free(struct transport *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < 5; i++)
		free(t->lists[i]);
	for (i = 0; i < TRANSPORT_NALG; i++)
		free(t->names[i]);
	free(t->moduli_file);
	free(t->server_sig_algs_out);
	free(t->server_sig_algs);
	free(t->my_version);
	free(t->peer_version);
	kex_free(t->kex);
	key_free(t->server_hostkey);
	free(t->hostcert_key);
	packet_free(t->pkt);
	buf_free(t->queue);
	buf_free(t->upper);
	explicit_bzero(t, sizeof(*t));
	free(t);
}

/* ---- sending ---- */

int
transport_fail(struct transport *t, int r, uint32_t reason, const char *fmt,
    ...)
{
	struct buf *p;
	va_list ap;

	if (r >= 0)
		r = FERR_PROTOCOL;
	if (t->closed)
		return r;
	va_start(ap, fmt);
	(void)vsnprintf(t->error, sizeof(t->error), fmt, ap);
	va_end(ap);
	log_verbose("transport: %s: %s", t->error, err_str(r));
	if (!t->version_done) {
		/* No packets yet: say it as text, as OpenSSH does. */
		if (buf_putf(packet_output(t->pkt), "%s\r\n", t->error) != 0)
			log_debug("transport: could not queue the error line");
	} else if (packet_start(t->pkt, TRANSPORT_MSG_DISCONNECT, &p) == 0 &&
	    buf_put_u32(p, reason) == 0 && buf_put_cstring(p, t->error) == 0 &&
	    buf_put_cstring(p, "") == 0) {
		if (packet_send(t->pkt) != 0)
			log_debug("transport: could not queue DISCONNECT");
	}
	t->closed = 1;
	return r;
}

int
transport_send_internal(struct transport *t, uint8_t msg,
    struct buf **payloadp)
{
	t->upper_held = 0;
	if (t->closed)
		return FERR_CONN_CLOSED;
	return packet_start(t->pkt, msg, payloadp);
}

/* Whether an upper-layer message must wait for the key exchange. */
static int
transport_must_hold(const struct transport *t, uint8_t msg)
{
	if (t->kex == NULL || t->kex->sent_newkeys)
		return 0;
	/* Generic transport messages may cross a key exchange. */
	return msg == TRANSPORT_MSG_SERVICE_REQUEST ||
	    msg == TRANSPORT_MSG_SERVICE_ACCEPT || msg >= 50;
}

int
transport_packet_start(struct transport *t, uint8_t msg, struct buf **payloadp)
{
	int r;

	*payloadp = NULL;
	if (t->closed)
		return FERR_CONN_CLOSED;
	if (transport_must_hold(t, msg) || !t->version_done ||
	    (t->kex_count == 0 && msg >= 50)) {
		buf_reset(t->upper);
		if ((r = buf_put_u8(t->upper, msg)) != 0)
			return r;
		t->upper_held = 1;
		*payloadp = t->upper;
		return 0;
	}
	t->upper_held = 0;
	return packet_start(t->pkt, msg, payloadp);
}

static int
transport_maybe_rekey(struct transport *t)
{
	uint64_t limit = packet_rekey_limit(t->pkt);

	if (t->kex != NULL || t->kex_count == 0 || t->closed)
		return 0;
	if (t->rekey_bytes != 0 && t->rekey_bytes < limit)
		limit = t->rekey_bytes;
	else if (t->rekey_bytes == 0 && TRANSPORT_REKEY_BYTES < limit)
		limit = TRANSPORT_REKEY_BYTES;
	if (packet_send_bytes(t->pkt) < limit && packet_recv_bytes(t->pkt) < limit)
		return 0;
	log_debug("transport: rekeying after %llu bytes sent, %llu received",
	    (unsigned long long)packet_send_bytes(t->pkt),
	    (unsigned long long)packet_recv_bytes(t->pkt));
	return kex_start(t);
}

int
transport_send(struct transport *t)
{
	int r;

	if (t->closed)
		return FERR_CONN_CLOSED;
	if (t->upper_held) {
		t->upper_held = 0;
		return buf_put_stringb(t->queue, t->upper);
	}
	if ((r = packet_send(t->pkt)) != 0)
		return transport_fail(t, r, TRANSPORT_DISC_PROTOCOL_ERROR,
		    "cannot send a packet");
	return transport_maybe_rekey(t);
}

int
transport_flush_held(struct transport *t)
{
	struct buf *p;
	const uint8_t *m;
	size_t len;
	int r;

	if (t->kex_count == 0 && (t->kex == NULL || !t->kex->sent_newkeys))
		return 0;
	while (buf_len(t->queue) > 0) {
		if ((r = buf_get_string_direct(t->queue, &m, &len)) != 0)
			return r;
		if (len == 0)
			return FERR_INTERNAL;
		if ((r = packet_start(t->pkt, m[0], &p)) != 0 ||
		    (r = buf_put(p, m + 1, len - 1)) != 0 ||
		    (r = packet_send(t->pkt)) != 0)
			return r;
	}
	return 0;
}

int
transport_send_ext_info(struct transport *t)
{
	struct buf *p;
	int r;

	if ((r = transport_send_internal(t, TRANSPORT_MSG_EXT_INFO, &p)) != 0 ||
	    (r = buf_put_u32(p, 2)) != 0 ||
	    (r = buf_put_cstring(p, "server-sig-algs")) != 0 ||
	    (r = buf_put_cstring(p, t->server_sig_algs_out)) != 0 ||
	    (r = buf_put_cstring(p, "ping@openssh.com")) != 0 ||
	    (r = buf_put_cstring(p, "0")) != 0)
		return r;
	return transport_send(t);
}

size_t
transport_held_bytes(const struct transport *t)
{
	return buf_len(t->queue);
}

int
transport_unimplemented(struct transport *t)
{
	struct buf *p;
	int r;

	if ((r = transport_send_internal(t, TRANSPORT_MSG_UNIMPLEMENTED,
	    &p)) != 0 ||
	    (r = buf_put_u32(p, packet_recv_seq(t->pkt) - 1)) != 0)
		return r;
	return transport_send(t);
}

int
transport_rekey(struct transport *t)
{
	if (t->closed)
		return FERR_CONN_CLOSED;
	if (t->kex_count == 0 || t->kex != NULL)
		return 0;
	return kex_start(t);
}

int
transport_moduli_read(const char *path, struct buf **textp)
{
	return kex_moduli_read(path != NULL ? path : KEX_MODULI_PATH, textp);
}

int
transport_tick(struct transport *t, time_t now)
{
	t->now = now;
	if (t->rekey_seconds == 0 || t->kex != NULL || t->kex_count == 0 ||
	    t->closed)
		return 0;
	if (now - t->kex_started < (time_t)t->rekey_seconds)
		return 0;
	log_debug("transport: rekeying after %u seconds", t->rekey_seconds);
	return kex_start(t);
}

int
transport_disconnect(struct transport *t, uint32_t reason,
    const char *description)
{
	if (t->closed)
		return FERR_CONN_CLOSED;
	(void)transport_fail(t, FERR_DISCONNECTED, reason, "%s", description);
	return 0;
}

void
transport_auth_done(struct transport *t)
{
	t->auth_done = 1;
	packet_start_delayed_compression(t->pkt);
}

/* ---- receiving ---- */

int
transport_input(struct transport *t, const uint8_t *data, size_t len)
{
	if (t->closed)
		return FERR_CONN_CLOSED;
	return buf_put(packet_input(t->pkt), data, len);
}

int
transport_input_fill(struct transport *t, size_t max,
    transport_fill_fn *fill, void *arg)
{
	struct buf *in = packet_input(t->pkt);
	size_t room = buf_avail(in), n;
	uint8_t *p;
	int r;

	if (t->closed)
		return FERR_CONN_CLOSED;
	if (max == 0)
		return FERR_ARGUMENT;
	if (room == 0)
		return FERR_NO_SPACE;
	if (room > max)
		room = max;
	if ((r = buf_reserve(in, room, &p)) != 0)
		return r;
	/* What fill did not store is dropped again. */
	if ((n = fill(arg, p, room)) > room) {
		if ((r = buf_consume_end(in, room)) != 0)
			return r;
		return FERR_ARGUMENT;
	}
	return buf_consume_end(in, room - n);
}

size_t
transport_fill_fd(void *arg, uint8_t *p, size_t room)
{
	struct transport_fd_read *rd = arg;

	rd->n = read(rd->fd, p, room);
	rd->err = errno;
	return rd->n > 0 ? (size_t)rd->n : 0;
}

struct buf *
transport_output(struct transport *t)
{
	return packet_output(t->pkt);
}

/* Read the peer's identification line (RFC 4253 4.2). */
static int
transport_version(struct transport *t)
{
	struct buf *in = packet_input(t->pkt);
	const uint8_t *p, *nl;
	size_t len, linelen, i;

	for (;;) {
		p = buf_ptr(in);
		len = buf_len(in);
		nl = memchr(p, '\n', len < TRANSPORT_VERSION_MAX ? len :
		    TRANSPORT_VERSION_MAX);
		if (nl == NULL) {
			if (len >= TRANSPORT_VERSION_MAX)
				return transport_fail(t, FERR_PROTOCOL_VERSION, 0,
				    "identification line too long or missing CR LF");
			return FERR_WOULD_BLOCK;
		}
		linelen = (size_t)(nl - p);
		if (linelen > 0 && p[linelen - 1] == '\r')
			linelen--;
		for (i = 0; i < linelen; i++)
			if (p[i] == '\0')
				return transport_fail(t, FERR_PROTOCOL_VERSION, 0,
				    "NUL in identification line");
		if (linelen >= 4 && memcmp(p, "SSH-", 4) == 0)
			break;
		if (t->server)
			return transport_fail(t, FERR_PROTOCOL_VERSION, 0,
			    "Invalid SSH identification string.");
		if (++t->banner_lines > TRANSPORT_BANNER_LINES)
			return transport_fail(t, FERR_PROTOCOL_VERSION, 0,
			    "too many lines before the identification");
		if (buf_consume(in, (size_t)(nl - p) + 1) != 0)
			return FERR_INTERNAL;
	}
	if (!(linelen >= 8 && memcmp(p, "SSH-2.0-", 8) == 0) &&
	    !(linelen >= 9 && memcmp(p, "SSH-1.99-", 9) == 0))
		return transport_fail(t, FERR_PROTOCOL_VERSION, 0,
		    "Protocol major versions differ.");
	if ((t->peer_version = strndup((const char *)p, linelen)) == NULL)
		return FERR_ALLOC;
	if (buf_consume(in, (size_t)(nl - p) + 1) != 0)
		return FERR_INTERNAL;
	t->version_done = 1;
	log_debug("transport: peer version %s", t->peer_version);
	return kex_start(t);
}

/* Copy a peer's text, replacing anything but printable ASCII. */
static void
transport_sanitise(char *dst, size_t dstsize, const uint8_t *s, size_t len)
{
	size_t i;

	if (dstsize == 0)
		return;
	for (i = 0; i < len && i < dstsize - 1; i++)
		dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
	dst[i] = '\0';
}

static int
transport_recv_disconnect(struct transport *t, struct buf *m,
    struct transport_event *ev)
{
	const uint8_t *desc;
	size_t len;

	if (buf_get_u32(m, &ev->reason) != 0 ||
	    buf_get_string_direct(m, &desc, &len) != 0) {
		ev->reason = TRANSPORT_DISC_PROTOCOL_ERROR;
		desc = (const uint8_t *)"(malformed DISCONNECT)";
		len = strlen((const char *)desc);
	}
	transport_sanitise(ev->description, sizeof(ev->description), desc, len);
	ev->type = TRANSPORT_EV_DISCONNECT;
	snprintf(t->error, sizeof(t->error), "disconnected by peer: %.200s",
	    ev->description);
	t->closed = 1;
	return 1;
}

static int
transport_recv_ext_info(struct transport *t, struct buf *m)
{
	const uint8_t *name, *val;
	size_t nlen, vlen;
	uint32_t n, i;
	int r;

	if (t->kex_count == 0 && (t->kex == NULL || !t->kex->got_newkeys))
		return transport_fail(t, FERR_PROTOCOL,
		    TRANSPORT_DISC_PROTOCOL_ERROR, "EXT_INFO before NEWKEYS");
	if ((r = buf_get_u32(m, &n)) != 0)
		goto bad;
	if (n > TRANSPORT_EXT_MAX)
		return transport_fail(t, FERR_PROTOCOL,
		    TRANSPORT_DISC_PROTOCOL_ERROR,
		    "EXT_INFO with %u extensions", n);
	for (i = 0; i < n; i++) {
		if ((r = buf_get_string_direct(m, &name, &nlen)) != 0 ||
		    (r = buf_get_string_direct(m, &val, &vlen)) != 0)
			goto bad;
		if (t->server || nlen != 15 || memcmp(name, "server-sig-algs", 15) != 0)
			continue;
		free(t->server_sig_algs);
		if ((t->server_sig_algs = strndup((const char *)val, vlen)) == NULL)
			return FERR_ALLOC;
	}
	if ((r = buf_expect_end(m)) == 0)
		return 0;
 bad:
	return transport_fail(t, r, TRANSPORT_DISC_PROTOCOL_ERROR,
	    "malformed EXT_INFO");
}

static int
transport_recv_misc(struct transport *t, uint8_t msg, struct buf *m)
{
	struct buf *p;
	const uint8_t *s;
	size_t len;
	uint32_t seq;
	char text[256];
	int r;

	switch (msg) {
	case TRANSPORT_MSG_IGNORE:
		return 0;
	case TRANSPORT_MSG_DEBUG:
		if (buf_get_bool(m, NULL) == 0 &&
		    buf_get_string_direct(m, &s, &len) == 0) {
			transport_sanitise(text, sizeof(text), s, len);
			log_debug("transport: peer debug message: %s", text);
		}
		return 0;
	case TRANSPORT_MSG_UNIMPLEMENTED:
		if (buf_get_u32(m, &seq) == 0)
			log_debug("transport: peer did not implement packet %u", seq);
		return 0;
	case TRANSPORT_MSG_PING:
		if (t->kex_count == 0)
			return transport_fail(t, FERR_PROTOCOL,
			    TRANSPORT_DISC_PROTOCOL_ERROR, "PING before key exchange");
		if ((r = buf_get_string_direct(m, &s, &len)) != 0 ||
		    (r = buf_expect_end(m)) != 0)
			return transport_fail(t, r, TRANSPORT_DISC_PROTOCOL_ERROR,
			    "malformed PING");
		if ((r = transport_send_internal(t, TRANSPORT_MSG_PONG, &p)) != 0 ||
		    (r = buf_put_string(p, s, len)) != 0)
			return r;
		return transport_send(t);
	case TRANSPORT_MSG_PONG:
		return 0;
	default:
		/* RFC 4253 11.4: answer what we do not know. */
		return transport_unimplemented(t);
	}
}

/* Messages the transport hands to the upper layers. */
static int
transport_is_upper(uint8_t msg)
{
	return msg == TRANSPORT_MSG_SERVICE_REQUEST ||
	    msg == TRANSPORT_MSG_SERVICE_ACCEPT ||
	    (msg >= 50 && msg != TRANSPORT_MSG_PING && msg != TRANSPORT_MSG_PONG);
}

/* Dispatch one packet: 1 when ev holds an event, 0 to go on, or error. */
static int
transport_dispatch(struct transport *t, uint8_t msg, struct buf *m,
    struct transport_event *ev)
{
	int r;

	if (msg == TRANSPORT_MSG_DISCONNECT)
		return transport_recv_disconnect(t, m, ev);
	/* Strict kex: the initial exchange admits nothing but itself. */
	if (t->strict && t->kex_count == 0 && !kex_msg_expected(t, msg) &&
	    msg != TRANSPORT_MSG_NEWKEYS)
		return transport_fail(t, FERR_PROTOCOL,
		    TRANSPORT_DISC_PROTOCOL_ERROR,
		    "strict KEX violation: unexpected message %u", msg);
	if (msg == TRANSPORT_MSG_KEXINIT)
		return kex_recv_kexinit(t, m);
	if (msg == TRANSPORT_MSG_NEWKEYS) {
		if ((r = kex_recv_newkeys(t, m)) != 1)
			return r;
		ev->type = TRANSPORT_EV_KEX_DONE;
		return 1;
	}
	if (msg >= 30 && msg <= 49)
		return kex_recv_method(t, msg, m);
	if (msg == TRANSPORT_MSG_EXT_INFO)
		return transport_recv_ext_info(t, m);
	if (!transport_is_upper(msg))
		return transport_recv_misc(t, msg, m);
	if (t->kex_count == 0)
		return transport_fail(t, FERR_PROTOCOL,
		    TRANSPORT_DISC_PROTOCOL_ERROR,
		    "message %u before the first key exchange completed", msg);
	/*
	 * RFC 4253 7.1 forbids a side to send these between its KEXINIT
	 * and its NEWKEYS, but only our own sending is held back: as
	 * OpenSSH (whose key exchange takes over messages 1 to 49 alone),
	 * one the peer sent during a rekey is taken under the current keys.
	 * AsyncSSH sends the packet that crosses its rekey limit just
	 * after its KEXINIT.
	 */
	ev->type = TRANSPORT_EV_PACKET;
	ev->msg = msg;
	ev->payload = m;
	return 1;
}

int
transport_poll(struct transport *t, struct transport_event *ev)
{
	struct buf *m;
	uint8_t msg;
	int r;

	memset(ev, 0, sizeof(*ev));
	for (;;) {
		if (t->closed)
			return FERR_CONN_CLOSED;
		if (!t->version_done) {
			if ((r = transport_version(t)) == FERR_WOULD_BLOCK)
				return 0;
			if (r != 0)
				return r;
			continue;
		}
		if (buf_len(packet_output(t->pkt)) > TRANSPORT_OUT_HIGH)
			return 0;	/* the caller must send first */
		r = packet_read(t->pkt, &msg, &m);
		if (r == FERR_WOULD_BLOCK)
			return 0;
		if (r != 0)
			return transport_fail(t, r, r == FERR_MAC_INVALID ?
			    TRANSPORT_DISC_MAC_ERROR : TRANSPORT_DISC_PROTOCOL_ERROR,
			    r == FERR_MAC_INVALID ? "message authentication failed" :
			    "bad packet framing");
		if ((r = transport_dispatch(t, msg, m, ev)) < 0)
			return t->closed ? r : transport_fail(t, r,
			    TRANSPORT_DISC_PROTOCOL_ERROR, "message %u failed", msg);
		if ((r = transport_maybe_rekey(t)) != 0)
			return r;
		if (ev->type != TRANSPORT_EV_NONE)
			return 0;
	}
}

/* ---- accessors ---- */

int
transport_is_open(const struct transport *t)
{
	return t->kex_count > 0 && !t->closed;
}

const char *
transport_algorithm(const struct transport *t, enum transport_alg which)
{
	if ((unsigned int)which >= TRANSPORT_NALG)
		return NULL;
	return t->names[which];
}

const uint8_t *
transport_session_id(const struct transport *t, size_t *lenp)
{
	*lenp = t->session_id_len;
	return t->session_id_len != 0 ? t->session_id : NULL;
}

const char *
transport_peer_version(const struct transport *t)
{
	return t->peer_version;
}

const struct key *
transport_server_hostkey(const struct transport *t)
{
	return t->server_hostkey;
}

const char *
transport_server_sig_algs(const struct transport *t)
{
	return t->server_sig_algs;
}

int
transport_peer_ext_info(const struct transport *t)
{
	return t->peer_ext_info;
}

int
transport_strict_kex(const struct transport *t)
{
	return t->strict;
}

unsigned int
transport_kex_count(const struct transport *t)
{
	return t->kex_count;
}

const char *
transport_error(const struct transport *t)
{
	return t->error[0] != '\0' ? t->error : "no error";
}
