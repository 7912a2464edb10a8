/*
 * The binary packet protocol (RFC 4253 section 6), sans I/O.
 *
 * Received bytes are appended to the input buffer; packet_read() frames,
 * authenticates and decrypts one packet in place and hands out its
 * payload through a read-only view.  Outgoing packets are built in one
 * buffer (packet_start/packet_send) and encrypted straight into the output
 * buffer, so the only copy of a payload is the one the cipher makes.
 *
 * Each direction has its own keys; before the first NEWKEYS there are
 * none (plaintext, block size 8).  Sequence numbers wrap at 2^32 and can
 * be reset (strict kex).
 */
#ifndef FERRY_PACKET_H
#define FERRY_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/buf.h"

/* Largest packet_length accepted or sent (RFC 4253 6.1 asks 35000). */
#define PACKET_MAX_SIZE		(256 * 1024)
/* Largest payload an upper layer may put in one packet. */
#define PACKET_MAX_PAYLOAD	(PACKET_MAX_SIZE - 1024)
/* Cap on buffered but unprocessed input and unsent output. */
#define PACKET_BUF_MAX		(8 * 1024 * 1024)

struct packet;
struct packet_keys;

/* Compression methods. */
enum packet_comp {
	PACKET_COMP_NONE = 0,
	PACKET_COMP_ZLIB,		/* "zlib": from NEWKEYS on */
	PACKET_COMP_ZLIB_DELAYED,	/* "zlib@openssh.com": after auth */
};

/* A new packet layer with no keys; NULL on allocation failure. */
struct packet *packet_new(void);
void packet_free(struct packet *p);

/* Received bytes go into this buffer (append with buf_put). */
struct buf *packet_input(struct packet *p);
/* Bytes to send: the caller consumes what it wrote. */
struct buf *packet_output(struct packet *p);

/*
 * Keys for one direction, from negotiated names and derived material.
 * mac_name is ignored for AEAD ciphers.  encrypt selects the direction.
 */
int packet_keys_new(const char *cipher_name, const uint8_t *key,
    size_t keylen, const uint8_t *iv, size_t ivlen, const char *mac_name,
    const uint8_t *mackey, size_t mackeylen, enum packet_comp comp,
    int encrypt, struct packet_keys **kp) FERRY_WUR;
void packet_keys_free(struct packet_keys *k);

/*
 * Sizes the key derivation needs for cipher_name and mac_name (the MAC
 * is ignored for AEAD ciphers): FERR_NOT_SUPPORTED for unknown names.
 */
int packet_key_sizes(const char *cipher_name, const char *mac_name,
    size_t *keylen, size_t *ivlen, size_t *mackeylen, size_t *blocksize)
    FERRY_WUR;

/*
 * Install keys for sending or receiving (taking ownership; the old ones
 * are freed).  reset_seq sets that direction's sequence number to 0
 * (strict kex).  Byte counters for rekeying restart.
 */
void packet_set_send_keys(struct packet *p, struct packet_keys *k,
    int reset_seq);
void packet_set_recv_keys(struct packet *p, struct packet_keys *k,
    int reset_seq);

/* Start delayed compression in both directions (after authentication). */
void packet_start_delayed_compression(struct packet *p);

/*
 * Begin an outgoing packet of message type: returns in *payloadp the
 * buffer to append the rest of the payload to (only appends are allowed).
 * The packet is encrypted into the output by packet_send().
 */
int packet_start(struct packet *p, uint8_t type, struct buf **payloadp)
    FERRY_WUR;
int packet_send(struct packet *p) FERRY_WUR;

/*
 * Frame one received packet.  Returns 0 with *typep and a read-only view
 * of the payload after the type byte in *payloadp (valid until the next
 * packet_read or until the input buffer is appended to), or
 * FERR_WOULD_BLOCK when more bytes are needed, or an error: FERR_PROTOCOL
 * for bad lengths or padding, FERR_MAC_INVALID when authentication fails.
 * After an error the packet layer is unusable.
 */
int packet_read(struct packet *p, uint8_t *typep, struct buf **payloadp)
    FERRY_WUR;

/* Sequence numbers of the next packet each way. */
uint32_t packet_send_seq(const struct packet *p);
uint32_t packet_recv_seq(const struct packet *p);

/*
 * Bytes sent and received under the current keys: the rekey trigger.
 * Also the limit suited to the current ciphers (min over directions of
 * what the block size allows), which the transport combines with the
 * configured RekeyLimit.
 */
uint64_t packet_send_bytes(const struct packet *p);
uint64_t packet_recv_bytes(const struct packet *p);
uint64_t packet_rekey_limit(const struct packet *p);

/* Whether sending keys are in place (after the first NEWKEYS). */
int packet_have_send_keys(const struct packet *p);

/*
 * Hand the layer to another process (transport-state.c).  packet_export
 * appends, to out, the sequence numbers, byte counters, both directions'
 * key material with each cipher's current IV (cipher_get_iv), and the
 * received bytes not yet framed (with the length of a packet whose start
 * was already read).  The layer must be idle: keys in both directions, no
 * packet being built, no output (else FERR_WOULD_BLOCK), no compression
 * running or able to start, i.e. no "zlib" and no zlib@openssh.com after
 * authentication (FERR_NOT_SUPPORTED); FERR_CONN_CLOSED after an error.
 *
 * packet_import reads that back from b into a fresh layer (packet_new),
 * with the algorithm names (cipher, MAC or NULL for AEAD, compression)
 * of each direction from the transport's own part of the state and
 * after_auth for delayed compression.  Anything inconsistent (lengths
 * that do not fit the algorithms, a partial packet the framing would not
 * have accepted, non-canonical flags) is FERR_FORMAT.  It does not check
 * that b ends: the caller does.
 */
int packet_export(struct packet *p, struct buf *out) FERRY_WUR;
int packet_import(struct packet *p, struct buf *b, const char *const send[3],
    const char *const recv[3], int after_auth) FERRY_WUR;

#endif /* FERRY_PACKET_H */
