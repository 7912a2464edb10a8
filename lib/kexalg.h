/*
 * Key exchange math for the SSH transport: the algorithm table,
 * curve25519 (RFC 8731), ECDH over the NIST curves (RFC 5656), fixed
 * Diffie-Hellman groups (RFC 4253, RFC 8268), group exchange (RFC 4419)
 * with OpenSSH's moduli file, the exchange hash H and the key derivation
 * of RFC 4253 section 7.2.  Thin wrappers over libcrypto 3.0.
 *
 * Conventions shared by every kind:
 *  - Private state lives in opaque objects whose _free wipes it.
 *  - A shared secret K is appended to a caller's struct buf already in
 *    its wire form (an SSH mpint), which is how both the exchange hash
 *    and the key derivation consume it; that buffer is marked secret.
 *  - Peer values are validated before use; a bad one is FERR_KEY_INVALID
 *    (wrong length: FERR_KEY_LENGTH) and nothing is appended.
 *  - Functions return 0 or a negative FERR_* code.
 */
#ifndef FERRY_KEXALG_H
#define FERRY_KEXALG_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"

struct bignum_st;

/* ---- Algorithm table (kexalg.c) ---- */

enum kexalg_kind {
	KEXALG_CURVE25519 = 1,
	KEXALG_ECDH,
	KEXALG_DH,
	KEXALG_GEX,
};

struct kexalg {
	const char *name;
	enum kexalg_kind kind;
	int hash_alg;		/* DIGEST_* */
	int param;		/* ECDH: curve NID; DH: KEX_DH_GROUP*; else 0 */
	int legacy;		/* weak: off unless configured explicitly */
};

/* What Ferry offers when nothing is configured, most preferred first. */
#define KEXALG_DEFAULT \
	"curve25519-sha256,curve25519-sha256@libssh.org," \
	"ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521," \
	"diffie-hellman-group-exchange-sha256," \
	"diffie-hellman-group16-sha512,diffie-hellman-group18-sha512," \
	"diffie-hellman-group14-sha256"

/* The table entry for name, or NULL when the algorithm is unknown. */
const struct kexalg *kexalg_by_name(const char *name);

/*
 * Whether every name in the comma-separated list is a known algorithm
 * (0) or not (FERR_NOT_SUPPORTED).  Empty lists and empty names are
 * FERR_FORMAT.
 */
int kexalg_names_valid(const char *list) FERRY_WUR;

/*
 * An allocated comma-separated list of every supported algorithm, in
 * table order, legacy ones included only when include_legacy is set.
 * NULL on allocation failure.
 */
char *kexalg_names(int include_legacy);

/*
 * One side's ephemeral key for any algorithm of the table: what the kex
 * state machine drives, without caring about the kind.  The public value
 * travels in its wire form: string Q_C/Q_S for curve25519 and ECDH, mpint
 * e/f for the DH kinds; both are a uint32 length and bytes, which is also
 * how the exchange hash takes them.
 */
struct kexalg_key;
struct kex_dh_group;
struct kex_gex_request;
struct kex_hash_input;

/*
 * Generate a key for alg.  need_bits is the session's security need in
 * bits (OpenSSH's we_need * 8, sizing DH exponents).  gex_group is the
 * group agreed for KEXALG_GEX (copied) and must be NULL otherwise.
 */
int kexalg_key_new(const struct kexalg *alg,
    const struct kex_dh_group *gex_group, unsigned int need_bits,
    struct kexalg_key **kp) FERRY_WUR;

/* Append our public value in its wire form (string or mpint) to out. */
int kexalg_key_public(const struct kexalg_key *k, struct buf *out) FERRY_WUR;

/*
 * Consume the peer's public value (wire form) from msg, validate it and
 * append the mpint shared secret to the secret buffer K.  When peer_wire
 * is not NULL, the value's wire bytes are appended to it for the
 * exchange hash.  Nothing else of msg is consumed.
 */
int kexalg_key_shared(const struct kexalg_key *k, struct buf *msg,
    struct buf *peer_wire, struct buf *K) FERRY_WUR;

void kexalg_key_free(struct kexalg_key *k);

/*
 * H for alg over wire-form public values (client_pub, server_pub as
 * kexalg_key_public writes them): dispatches to the kex_kdf_hash_*
 * function of the kind.  req and grp are used for KEXALG_GEX only.
 */
int kexalg_exchange_hash(const struct kexalg *alg,
    const struct kex_hash_input *in, const struct kex_gex_request *req,
    const struct kex_dh_group *grp, const struct buf *client_pub,
    const struct buf *server_pub, const struct buf *shared, uint8_t *out,
    size_t outlen) FERRY_WUR;

/* ---- curve25519-sha256 (kex-curve25519.c) ---- */

#define KEX_CURVE25519_SIZE	32

struct kex_curve25519;

/* Generate an ephemeral X25519 key pair into *kp. */
int kex_curve25519_keygen(struct kex_curve25519 **kp) FERRY_WUR;

/*
 * Build a key pair from a given 32-byte private scalar (for known-answer
 * tests; kex uses kex_curve25519_keygen).
 */
int kex_curve25519_from_private(const uint8_t *priv, size_t len,
    struct kex_curve25519 **kp) FERRY_WUR;

/* Append the 32-byte public value Q to out (raw, not a string). */
int kex_curve25519_public(const struct kex_curve25519 *k,
    struct buf *out) FERRY_WUR;

/*
 * X25519(k, peer): the raw 32-byte shared value into out.  peer must be
 * 32 bytes (FERR_KEY_LENGTH); an all-zero result (a low-order peer
 * point) is FERR_KEY_INVALID and out is zeroed.
 */
int kex_curve25519_raw(const struct kex_curve25519 *k, const uint8_t *peer,
    size_t len, uint8_t out[KEX_CURVE25519_SIZE]) FERRY_WUR;

/*
 * As kex_curve25519_raw, then append K to the secret buffer K as an mpint
 * of the 32 bytes read as a big-endian number (RFC 8731 section 3.1).
 */
int kex_curve25519_shared(const struct kex_curve25519 *k,
    const uint8_t *peer, size_t len, struct buf *K) FERRY_WUR;

/* Wipe and release (NULL is allowed). */
void kex_curve25519_free(struct kex_curve25519 *k);

/* ---- ecdh-sha2-nistp256/384/521 (kex-ecdh.c) ---- */

struct kex_ecdh;

/*
 * Generate an ephemeral key on the curve nid (NID_X9_62_prime256v1,
 * NID_secp384r1, NID_secp521r1); other curves are FERR_NOT_SUPPORTED.
 */
int kex_ecdh_keygen(int nid, struct kex_ecdh **kp) FERRY_WUR;

/* A key pair from a big-endian private scalar, for known-answer tests. */
int kex_ecdh_from_private(int nid, const uint8_t *priv, size_t len,
    struct kex_ecdh **kp) FERRY_WUR;

/* Length in bytes of a field element (and of K before mpint encoding). */
size_t kex_ecdh_field_bytes(int nid);

/* Append the public point as uncompressed SEC1 octets (04 || X || Y). */
int kex_ecdh_public(const struct kex_ecdh *k, struct buf *out) FERRY_WUR;

/*
 * Validate the peer's uncompressed point (length, form, on the curve,
 * not the point at infinity, full public key check) and append the
 * shared x coordinate to the secret buffer K as an mpint (RFC 5656
 * section 4).
 */
int kex_ecdh_shared(const struct kex_ecdh *k, const uint8_t *peer,
    size_t len, struct buf *K) FERRY_WUR;

void kex_ecdh_free(struct kex_ecdh *k);

/* ---- Diffie-Hellman groups (kex-dh-groups.c) ---- */

/* Built-in groups, by their IKE numbers. */
enum kex_dh_group_id {
	KEX_DH_GROUP1 = 1,	/* RFC 2409 Oakley group 2, 1024 bits */
	KEX_DH_GROUP14 = 14,	/* RFC 3526, 2048 bits */
	KEX_DH_GROUP16 = 16,	/* RFC 3526, 4096 bits */
	KEX_DH_GROUP18 = 18,	/* RFC 3526, 8192 bits */
};

/* Groups smaller or larger than these are refused everywhere. */
#define KEX_DH_GROUP_MIN_BITS	1024
#define KEX_DH_GROUP_MAX_BITS	16384

struct kex_dh_group;

/* A new copy of built-in group id (FERR_ARGUMENT for an unknown id). */
int kex_dh_group_builtin(int id, struct kex_dh_group **gp) FERRY_WUR;

/*
 * A group from a modulus and generator (copied).  p must be odd and
 * between KEX_DH_GROUP_MIN_BITS and KEX_DH_GROUP_MAX_BITS bits and
 * 1 < g < p-1; otherwise FERR_KEY_INVALID (FERR_KEY_LENGTH for size).
 */
int kex_dh_group_new(const struct bignum_st *p, const struct bignum_st *g,
    struct kex_dh_group **gp) FERRY_WUR;

const struct bignum_st *kex_dh_group_p(const struct kex_dh_group *grp);
const struct bignum_st *kex_dh_group_g(const struct kex_dh_group *grp);
/* Size of the modulus in bits. */
unsigned int kex_dh_group_bits(const struct kex_dh_group *grp);
void kex_dh_group_free(struct kex_dh_group *grp);

/* ---- Diffie-Hellman exchange (kex-dh.c) ---- */

struct kex_dh;

/*
 * Generate an ephemeral key in grp.  need_bits is the security the
 * session needs (OpenSSH's we_need * 8); the private exponent gets
 * 2 * max(need_bits, 256) bits, at most the group size - 1, as OpenSSH
 * sizes it.  need_bits larger than half the group is FERR_KEY_LENGTH.
 * The group is copied.
 */
int kex_dh_keygen(const struct kex_dh_group *grp, unsigned int need_bits,
    struct kex_dh **kp) FERRY_WUR;

/* The public value (e or f) of a key; owned by the key. */
const struct bignum_st *kex_dh_public(const struct kex_dh *k);

/* Number of bits of the private exponent (for tests and logging). */
unsigned int kex_dh_private_bits(const struct kex_dh *k);

/*
 * Check a peer's public value against grp: 1 < pub < p-1 and not
 * trivially weak (fewer than 4 bits set).  0 or FERR_KEY_INVALID.
 */
int kex_dh_check_public(const struct kex_dh_group *grp,
    const struct bignum_st *pub) FERRY_WUR;

/* Validate peer and append K = peer^x mod p to the secret buffer K. */
int kex_dh_shared(const struct kex_dh *k, const struct bignum_st *peer,
    struct buf *K) FERRY_WUR;

void kex_dh_free(struct kex_dh *k);

/* ---- Group exchange bounds (kex-dh.c) ---- */

#define KEX_GEX_MIN_BITS	2048	/* OpenSSH DH_GRP_MIN */
#define KEX_GEX_MAX_BITS	8192	/* OpenSSH DH_GRP_MAX */

struct kex_gex_request {
	uint32_t min;
	uint32_t nbits;		/* preferred size */
	uint32_t max;
};

/*
 * The modulus size matching a symmetric strength of bits (NIST SP 800-57
 * as OpenSSH's dh_estimate), capped at KEX_GEX_MAX_BITS.
 */
uint32_t kex_dh_gex_estimate(unsigned int bits);

/* The request a client sends for a session needing need_bits. */
void kex_dh_gex_client_request(unsigned int need_bits,
    struct kex_gex_request *req);

/*
 * Server side: check that the request received is ordered (min <= nbits
 * <= max) and write into *bounds the same request clamped to OpenSSH's
 * bounds, which is what the group is chosen with (the exchange hash uses
 * the request as received).  FERR_DH_GEX_RANGE when it is out of order
 * or nothing is left between the clamped min and max.
 */
int kex_dh_gex_server_clamp(const struct kex_gex_request *req,
    struct kex_gex_request *bounds) FERRY_WUR;

/*
 * Client side: whether the group the server sent fits the request
 * (min <= bits <= max): 0 or FERR_DH_GEX_RANGE.
 */
int kex_dh_gex_check_group(const struct kex_gex_request *req,
    const struct kex_dh_group *grp) FERRY_WUR;

/* ---- OpenSSH moduli file (kex-moduli.c) ---- */

#define KEX_MODULI_PATH		"/etc/ssh/moduli"
/* A moduli file larger than this is refused. */
#define KEX_MODULI_MAX_FILE	(16U * 1024 * 1024)

/*
 * Parse one line of a moduli file ("timestamp type tests tries size
 * generator modulus", size being bits - 1, numbers of the modulus and
 * generator in hex).  A blank or comment line gives 0 and *gp = NULL.
 * A usable group (a safe prime, type 2, that passed Miller-Rabin and is
 * not marked composite, whose size matches) gives 0 and a new group.
 * Malformed lines are FERR_FORMAT, unsuitable ones FERR_NOT_SUPPORTED.
 * The trailing newline, if any, is part of the line.
 */
int kex_moduli_parse_line(const char *line, size_t len,
    struct kex_dh_group **gp) FERRY_WUR;

/*
 * Choose a group from the moduli text in text (not consumed) as OpenSSH's
 * choose_dh does: among usable groups with min <= bits <= max, the
 * smallest one larger than want, or failing that the largest; a random
 * one among the groups of that size.  Bad lines are skipped.  Nothing in
 * range is FERR_DH_GEX_RANGE.
 */
int kex_moduli_choose_text(const struct buf *text, uint32_t min,
    uint32_t want, uint32_t max, struct kex_dh_group **gp) FERRY_WUR;

/*
 * The same choice among the built-in groups 14, 16 and 18: the fallback
 * when no moduli file is usable.  FERR_DH_GEX_RANGE when none fits.
 */
int kex_moduli_fallback(uint32_t min, uint32_t want, uint32_t max,
    struct kex_dh_group **gp) FERRY_WUR;

/*
 * Choose from the moduli file at path (KEX_MODULI_PATH when NULL),
 * falling back to the built-in groups when the file cannot be read or
 * has nothing in range.
 */
int kex_moduli_choose(const char *path, uint32_t min, uint32_t want,
    uint32_t max, struct kex_dh_group **gp) FERRY_WUR;
/*
 * The same from loaded, the text of that file read earlier (by a
 * process that could still open it), when not NULL; path then only
 * names it in log lines.
 */
int kex_moduli_choose_from(const struct buf *loaded, const char *path,
    uint32_t min, uint32_t want, uint32_t max, struct kex_dh_group **gp)
    FERRY_WUR;
/*
 * Read the moduli file at path (at most KEX_MODULI_MAX_FILE bytes) into
 * a new buffer: 0, or FERR_SYSTEM (errno set) and others.
 */
int kex_moduli_read(const char *path, struct buf **bp) FERRY_WUR;

/* ---- Exchange hash and key derivation (kex-kdf.c) ---- */

/* The parts of H common to every key exchange, each hashed as a string. */
struct kex_hash_input {
	const struct buf *client_version;	/* V_C, without CR LF */
	const struct buf *server_version;	/* V_S */
	const struct buf *client_kexinit;	/* I_C: KEXINIT payload */
	const struct buf *server_kexinit;	/* I_S */
	const struct buf *server_hostkey;	/* K_S: host key blob */
};

/*
 * H for curve25519 and ECDH (RFC 5656 section 4, RFC 8731):
 * HASH(string V_C, string V_S, string I_C, string I_S, string K_S,
 * string Q_C, string Q_S, mpint K).  client_pub and server_pub hold the
 * raw Q_C and Q_S; shared holds K already mpint-encoded.  out must have
 * room for digest_bytes(hash_alg) bytes (outlen).
 */
int kex_kdf_hash_ecdh(int hash_alg, const struct kex_hash_input *in,
    const struct buf *client_pub, const struct buf *server_pub,
    const struct buf *shared, uint8_t *out, size_t outlen) FERRY_WUR;

/* H for fixed-group DH (RFC 4253 section 8): ..., mpint e, mpint f, K. */
int kex_kdf_hash_dh(int hash_alg, const struct kex_hash_input *in,
    const struct bignum_st *e, const struct bignum_st *f,
    const struct buf *shared, uint8_t *out, size_t outlen) FERRY_WUR;

/*
 * H for group exchange (RFC 4419 section 3): ..., uint32 min, uint32 n,
 * uint32 max, mpint p, mpint g, mpint e, mpint f, mpint K.  req holds
 * the values the client sent (before any server-side clamping).
 */
int kex_kdf_hash_gex(int hash_alg, const struct kex_hash_input *in,
    const struct kex_gex_request *req, const struct kex_dh_group *grp,
    const struct bignum_st *e, const struct bignum_st *f,
    const struct buf *shared, uint8_t *out, size_t outlen) FERRY_WUR;

/*
 * Derive need bytes of key material for letter which ('A'..'F') as in
 * RFC 4253 section 7.2: K1 = HASH(K || H || which || session_id),
 * Kn = HASH(K || H || K1 || ... || Kn-1), key = K1 || K2 || ...
 * truncated to need.  shared is K mpint-encoded; H and session_id are
 * raw.  *keyp gets a new secret buffer (wiped by buf_free) holding
 * exactly need bytes.
 */
int kex_kdf_derive(int hash_alg, const struct buf *shared,
    const uint8_t *hash, size_t hashlen, const uint8_t *session_id,
    size_t session_id_len, char which, size_t need,
    struct buf **keyp) FERRY_WUR;

/* A cap on need: far more than any cipher or MAC key. */
#define KEX_KDF_MAX_NEED	1024

#endif /* FERRY_KEXALG_H */
