/*
 * Two transport engines joined back to back in memory, for the transport
 * unit tests: a side records what its polls saw; pump() moves bytes both
 * ways until neither moves.
 */
#ifndef FERRY_TEST_TRANSPORT_PAIR_H
#define FERRY_TEST_TRANSPORT_PAIR_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "ferry/key.h"
#include "ferry/transport.h"

/* Upper-layer message used for test data (CHANNEL_DATA's number). */
#define TEST_MSG	94

/* One host key of each type; pair_hostkeys_init makes them. */
#define PAIR_NHOSTKEYS	5
extern struct key *hostkeys[PAIR_NHOSTKEYS];
extern size_t nhostkeys;

struct side {
	struct transport *t;
	int kex_done;
	int err;		/* first error from poll */
	int disconnected;	/* got a DISCONNECT event */
	uint32_t reason;
	uint64_t rx_bytes;
	EVP_MD_CTX *rx_hash;
	int packets;
};

void pair_hostkeys_init(void);
void pair_hostkeys_free(void);
void side_init(struct side *s);
void side_free(struct side *s);
/* Poll one side until it has nothing more; record what happened. */
void side_poll(struct side *s);
/* Move bytes from a's output to b's input, at most max at a time. */
size_t move(struct side *a, struct side *b, size_t max);
/* Run both sides until neither moves. */
void pump(struct side *c, struct side *s);
/* A client and a server with these lists (NULL: defaults). */
int new_pair(struct side *c, struct side *s, const char *kex, const char *hk,
    const char *cipher, const char *mac, uint64_t rekey);
/* Send one TEST_MSG packet with len bytes of d. */
int send_data(struct side *a, const uint8_t *d, size_t len);

#endif /* FERRY_TEST_TRANSPORT_PAIR_H */
