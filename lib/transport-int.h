/*
 * Internals shared by transport.c (the engine), kex.c (key exchange) and
 * transport-state.c (export and import of a live connection).  Nothing
 * else in the library includes this (unit tests do).
 */
#ifndef FERRY_TRANSPORT_INT_H
#define FERRY_TRANSPORT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ferry/buf.h"
#include "ferry/transport.h"
#include "kexalg.h"
#include "packet.h"

/* Number of negotiated names (enum transport_alg). */
#define TRANSPORT_NALG		8
/* Largest exchange hash (SHA-512). */
#define TRANSPORT_HASH_MAX	64

/* Key exchange method messages (RFC 4253, 4419, 5656). */
enum kex_msg {
	KEX_MSG_ECDH_INIT = 30,		/* also KEXDH_INIT */
	KEX_MSG_ECDH_REPLY = 31,	/* also KEXDH_REPLY, GEX_GROUP */
	KEX_MSG_GEX_INIT = 32,
	KEX_MSG_GEX_REPLY = 33,
	KEX_MSG_GEX_REQUEST = 34,
};

/* One key exchange in progress. */
struct kex {
	struct buf *my_kexinit;		/* our KEXINIT payload, type included */
	struct buf *peer_kexinit;
	int got_kexinit;
	int ignore_guess;		/* discard the peer's wrong guess */
	int guess_right;		/* both sides prefer the same methods */
	int nomatch;			/* the list (KEX_L_*) without a match */
	const struct kexalg *guess;	/* client: the method guessed */
	int sent_newkeys, got_newkeys;
	char *names[TRANSPORT_NALG];
	const struct kexalg *alg;
	size_t hashlen;
	uint8_t expect;			/* next method message from the peer */
	unsigned int need_bits;		/* security the ciphers need */
	struct kex_curve25519 *c25519;
	struct kex_ecdh *ecdh;
	struct kex_dh *dh;
	struct kex_dh_group *grp;
	struct kex_gex_request req;
	struct buf *my_pub;		/* raw Q of ECDH and curve25519 */
	struct buf *shared;		/* K, mpint-encoded, secret */
	uint8_t hash[TRANSPORT_HASH_MAX];
	struct packet_keys *next_send, *next_recv;
};

struct transport {
	int server;
	char *lists[5];			/* kex, hostkey, cipher, mac, comp */
	uint64_t rekey_bytes;
	uint32_t rekey_seconds;
	struct key *const *hostkeys;
	size_t nhostkeys;
	const struct key_cert *const *hostcerts;
	size_t *hostcert_key;		/* index in hostkeys of each cert */
	size_t nhostcerts;
	transport_sign_fn *hostkey_sign;
	void *hostkey_sign_ctx;
	char *moduli_file;
	const struct buf *moduli_text;	/* not owned */
	char *server_sig_algs_out;	/* server: what EXT_INFO says */
	transport_hostkey_fn *hostkey_check;
	transport_hostcert_fn *hostcert_check;
	void *hostkey_ctx;

	struct packet *pkt;
	int version_done;
	size_t banner_lines;
	char *my_version, *peer_version;
	struct buf *version_in;		/* bytes before the version is known */

	struct kex *kex;		/* non-NULL while exchanging keys */
	char *names[TRANSPORT_NALG];	/* of the last completed exchange */
	uint8_t session_id[TRANSPORT_HASH_MAX];
	size_t session_id_len;
	unsigned int kex_count;
	int strict;
	int peer_ext_info;		/* peer offered ext-info-c/-s */
	char *server_sig_algs;		/* client: from EXT_INFO */
	struct key *server_hostkey;	/* client: last host key seen */

	struct buf *queue;		/* held upper-layer messages */
	struct buf *upper;		/* one being built while held */
	int upper_held;			/* transport_packet_start chose upper */
	int auth_done;
	time_t now, kex_started;
	int closed;
	char error[256];
};

/* kex.c */
int kex_start(struct transport *t) FERRY_WUR;
int kex_recv_kexinit(struct transport *t, struct buf *payload) FERRY_WUR;
int kex_recv_method(struct transport *t, uint8_t msg, struct buf *payload)
    FERRY_WUR;
int kex_recv_newkeys(struct transport *t, struct buf *payload) FERRY_WUR;
void kex_free(struct kex *k);
/*
 * RFC 4253 7.1: whether a first_kex_packet_follows guess is right, given
 * both sides' kex and host key name-lists: only when each pair starts
 * with the same name.
 */
int kex_guess_right(const char *kex_a, const char *hostkey_a,
    const char *kex_b, const char *hostkey_b);
/* Whether the peer may send msg now during a key exchange. */
int kex_msg_expected(const struct transport *t, uint8_t msg);

/* transport.c, for kex.c and transport-state.c */
/* transport_new without queueing the version line. */
int transport_setup(const struct transport_config *cfg, struct transport **tp)
    FERRY_WUR;
int transport_fail(struct transport *t, int r, uint32_t reason,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int transport_send_internal(struct transport *t, uint8_t msg,
    struct buf **payloadp) FERRY_WUR;
int transport_flush_held(struct transport *t) FERRY_WUR;
int transport_send_ext_info(struct transport *t) FERRY_WUR;

/* The host key algorithms table (transport.c). */
const char *transport_hostkey_alg_default(void);
int transport_hostkey_alg_type(const char *name);
int transport_hostkey_alg_legacy(const char *name);
/* The signature algorithm of a host key algorithm (the base one for a
 * certificate algorithm), NULL when unknown. */
const char *transport_hostkey_alg_sigalg(const char *name);
int transport_hostkey_alg_is_cert(const char *name);
/* The certificate algorithms a server offers by default. */
const char *transport_hostkey_cert_algs(void);

#endif /* FERRY_TRANSPORT_INT_H */
