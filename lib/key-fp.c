/*
 * Fingerprints and the randomart picture, as OpenSSH prints them.
 *
 * The picture is the path of a "drunken bishop" (Loss, Limasset and
 * Tamminga): starting in the middle of a 17x9 field, each byte of the
 * digest moves it four times diagonally, two bits a move from the least
 * significant end (bit 0 right/left, bit 1 down/up), the walls stopping
 * it.  Each square shows how often it was visited through the symbols
 * " .o+=*BOX@%&#/^", with S for the start and E for the end; the frame
 * carries "[TYPE BITS]" on top and "[HASH]" at the bottom.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "key-internal.h"

#define KEY_ART_W	17
#define KEY_ART_H	9

static const char key_art_symbols[] = " .o+=*BOX@%&#/^SE";

static const struct {
	enum key_fp_hash hash;
	const char *md;		/* libcrypto name */
	const char *label;	/* prefix and picture footer */
} key_fp_hashes[] = {
	{ KEY_FP_SHA256, "SHA256", "SHA256" },
	{ KEY_FP_MD5, "MD5", "MD5" },
};

static int
key_fp_digest(const struct key *key, enum key_fp_hash hash, uint8_t *dgst,
    unsigned int *dlen, const char **labelp)
{
	struct buf *blob;
	const size_t n = sizeof(key_fp_hashes) / sizeof(key_fp_hashes[0]);
	size_t i;
	int r = FERR_ARGUMENT;

	for (i = 0; i < n; i++)
		if (key_fp_hashes[i].hash == hash)
			break;
	if (key == NULL || i == n)
		return FERR_ARGUMENT;
	*labelp = key_fp_hashes[i].label;
	if ((blob = buf_new()) == NULL)
		return FERR_ALLOC;
	if ((r = key_to_blob(key, blob)) != 0)
		goto out;
	if (EVP_Digest(buf_ptr(blob), buf_len(blob), dgst, dlen,
	    EVP_get_digestbyname(key_fp_hashes[i].md), NULL) != 1) {
		r = FERR_LIBCRYPTO;
		goto out;
	}
	r = 0;
 out:
	buf_free(blob);
	return r;
}

/* Hand out the buffer's contents as a C string. */
static int
key_fp_finish(struct buf *b, char **outp)
{
	if ((*outp = buf_dup_string(b)) == NULL)
		return FERR_ALLOC;
	return 0;
}

int
key_fingerprint(const struct key *key, enum key_fp_hash hash, char **fpp)
{
	uint8_t dgst[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0, i;
	const char *label;
	struct buf *b = NULL;
	int r;

	if (fpp == NULL)
		return FERR_ARGUMENT;
	*fpp = NULL;
	if ((r = key_fp_digest(key, hash, dgst, &dlen, &label)) != 0)
		return r;
	if ((b = buf_new()) == NULL)
		return FERR_ALLOC;
	if ((r = buf_putf(b, "%s:", label)) != 0)
		goto out;
	if (hash == KEY_FP_MD5) {
		for (i = 0; i < dlen; i++)
			if ((r = buf_putf(b, "%s%02x", i > 0 ? ":" : "",
			    dgst[i])) != 0)
				goto out;
	} else {
		/* Base64 without its '=' padding. */
		if ((r = buf_put_b64(b, dgst, dlen)) != 0)
			goto out;
		while (buf_len(b) > 0 && buf_ptr(b)[buf_len(b) - 1] == '=')
			if ((r = buf_consume_end(b, 1)) != 0)
				goto out;
	}
	r = key_fp_finish(b, fpp);
 out:
	buf_free(b);
	return r;
}

/* One frame line: "+", dashes, the label centred as OpenSSH does, "+". */
static int
key_art_frame(struct buf *b, const char *label)
{
	size_t len = strlen(label), i, pad;
	int r;

	pad = len < KEY_ART_W ? (KEY_ART_W - len) / 2 : 0;
	if ((r = buf_put_u8(b, '+')) != 0)
		return r;
	for (i = 0; i < pad; i++)
		if ((r = buf_put_u8(b, '-')) != 0)
			return r;
	if ((r = buf_put(b, label, len)) != 0)
		return r;
	for (i = pad + len; i < KEY_ART_W; i++)
		if ((r = buf_put_u8(b, '-')) != 0)
			return r;
	return buf_put_u8(b, '+');
}

int
key_randomart(const struct key *key, enum key_fp_hash hash, char **artp)
{
	uint8_t dgst[EVP_MAX_MD_SIZE], field[KEY_ART_W][KEY_ART_H];
	/* Index of the last symbol, E; S precedes it. */
	const size_t last = sizeof(key_art_symbols) - 2;
	unsigned int dlen = 0, i;
	char title[64], footer[32];
	const char *label;
	struct buf *b = NULL;
	int x, y, k, in, r;

	if (artp == NULL)
		return FERR_ARGUMENT;
	*artp = NULL;
	if ((r = key_fp_digest(key, hash, dgst, &dlen, &label)) != 0)
		return r;
	memset(field, 0, sizeof(field));
	x = KEY_ART_W / 2;
	y = KEY_ART_H / 2;
	for (i = 0; i < dlen; i++) {
		in = dgst[i];
		for (k = 0; k < 4; k++, in >>= 2) {
			x += (in & 1) ? 1 : -1;
			y += (in & 2) ? 1 : -1;
			x = x < 0 ? 0 : (x > KEY_ART_W - 1 ? KEY_ART_W - 1 : x);
			y = y < 0 ? 0 : (y > KEY_ART_H - 1 ? KEY_ART_H - 1 : y);
			/* Counts stop below the S and E symbols. */
			if (field[x][y] < last - 2)
				field[x][y]++;
		}
	}
	field[KEY_ART_W / 2][KEY_ART_H / 2] = (uint8_t)(last - 1);
	field[x][y] = (uint8_t)last;

	snprintf(title, sizeof(title), "[%s %u]",
	    key_type_short(key->impl->type), key_bits(key));
	if (strlen(title) > KEY_ART_W - 2)
		snprintf(title, sizeof(title), "[%s]",
		    key_type_short(key->impl->type));
	snprintf(footer, sizeof(footer), "[%s]", label);

	if ((b = buf_new()) == NULL)
		return FERR_ALLOC;
	if ((r = key_art_frame(b, title)) != 0 ||
	    (r = buf_put_u8(b, '\n')) != 0)
		goto out;
	for (y = 0; y < KEY_ART_H; y++) {
		if ((r = buf_put_u8(b, '|')) != 0)
			goto out;
		for (x = 0; x < KEY_ART_W; x++)
			if ((r = buf_put_u8(b,
			    (uint8_t)key_art_symbols[field[x][y]])) != 0)
				goto out;
		if ((r = buf_put(b, "|\n", 2)) != 0)
			goto out;
	}
	if ((r = key_art_frame(b, footer)) != 0)
		goto out;
	r = key_fp_finish(b, artp);
 out:
	buf_free(b);
	return r;
}
