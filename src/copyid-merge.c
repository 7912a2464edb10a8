/*
 * fssh-copy-id: public keys to install and their merge into
 * authorized_keys text.  Pure functions over memory (see copyid.h);
 * the remote side is copyid-remote.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ferry/authkeys.h"
#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "copyid.h"

#define CM_BLANKS	" \t"

/* Skip blanks, then take the next word: its start and length (0: none). */
static const char *
cm_word(const char **sp, size_t *lenp)
{
	const char *s = *sp + strspn(*sp, CM_BLANKS);

	*lenp = strcspn(s, CM_BLANKS);
	*sp = s + *lenp;
	return s;
}

/* An allocated copy of len bytes at p with a NUL after them. */
static char *
cm_strndup(const char *p, size_t len)
{
	char *s;

	if ((s = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/* Whether the len-byte word w is a key type name OpenSSH knows. */
static int
cm_type_known(const char *w, size_t len)
{
	char name[128];

	if (len == 0 || len >= sizeof(name))
		return 0;
	memcpy(name, w, len);
	name[len] = '\0';
	return key_type_name_known(name);
}

/* Decode the len-byte base64 word w into blob (emptied first). */
static int
cm_decode(const char *w, size_t len, struct buf *blob)
{
	char *s;
	int r;

	buf_reset(blob);
	if (len == 0)
		return FERR_FORMAT;
	if ((s = cm_strndup(w, len)) == NULL)
		return FERR_ALLOC;
	r = buf_put_b64_decoded(blob, s);
	free(s);
	if (r == 0 && buf_len(blob) == 0)
		r = FERR_FORMAT;
	return r;
}

/*
 * The key of an authorized_keys line: 1 with *typep and *typelenp naming
 * its type word and blob holding the decoded blob, or 0 for blank,
 * comment, cert-authority and malformed lines (and on errors: a line
 * that cannot be read counts as not holding the key).
 */
static int
cm_line_key(const char *line, const char **typep, size_t *typelenp,
    struct buf *blob)
{
	struct authkeys_opts *opts = NULL;
	const char *s = line, *w, *rest;
	size_t wlen;
	int ca;

	w = cm_word(&s, &wlen);
	if (wlen == 0 || *w == '#')
		return 0;
	if (!cm_type_known(w, wlen)) {
		/* Options first: let the authorized_keys parser judge. */
		if (authkeys_parse_options(w, &opts, &rest, NULL) != 0)
			return 0;
		ca = opts->cert_authority;
		authkeys_opts_free(opts);
		if (ca)
			return 0;
		s = rest;
		w = cm_word(&s, &wlen);
		if (!cm_type_known(w, wlen))
			return 0;
	}
	*typep = w;
	*typelenp = wlen;
	w = cm_word(&s, &wlen);
	return cm_decode(w, wlen, blob) == 0;
}

int
copyid_line_has_key(const char *line, const struct copyid_key *k)
{
	struct buf *blob;
	const char *type;
	size_t tlen;
	int found = 0;

	if (line == NULL || k == NULL || (blob = buf_new()) == NULL)
		return 0;
	if (cm_line_key(line, &type, &tlen, blob) &&
	    tlen == strlen(k->type) && memcmp(type, k->type, tlen) == 0 &&
	    buf_len(blob) == k->bloblen &&
	    memcmp(buf_ptr(blob), k->blob, k->bloblen) == 0)
		found = 1;
	buf_free(blob);
	return found;
}

void
copyid_key_clear(struct copyid_key *k)
{
	if (k == NULL)
		return;
	free(k->line);
	free(k->type);
	free(k->blob);
	memset(k, 0, sizeof(*k));
}

/*
 * Check a blob against its type name and fill k: the blob's own type
 * string must be type; a type Ferry supports must be a valid key.
 */
static int
cm_key_fill(const char *type, const uint8_t *blob, size_t len,
    const char *comment, struct copyid_key *k)
{
	struct key *key = NULL;
	struct buf *b = NULL, *line = NULL;
	const uint8_t *inner;
	size_t innerlen, i;
	int r;

	memset(k, 0, sizeof(*k));
	if (!key_type_name_known(type))
		return FERR_KEY_TYPE_UNKNOWN;
	if ((b = buf_from(blob, len)) == NULL)
		return FERR_ALLOC;
	if ((r = buf_peek_string_direct(b, &inner, &innerlen)) != 0)
		goto out;
	if (innerlen != strlen(type) || memcmp(inner, type, innerlen) != 0) {
		r = FERR_KEY_TYPE_MISMATCH;
		goto out;
	}
	if (key_type_from_name(type) != KEY_UNSPEC) {
		if ((r = key_from_blob_mem(blob, len, &key)) != 0)
			goto out;
		key_free(key);
	}
	if ((line = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = buf_put(line, type, strlen(type))) != 0 ||
	    (r = buf_put_u8(line, ' ')) != 0 ||
	    (r = buf_put_b64(line, blob, len)) != 0)
		goto out;
	if (comment != NULL && *comment != '\0') {
		if ((r = buf_put_u8(line, ' ')) != 0)
			goto out;
		/* A control character must not start a line of its own. */
		for (i = 0; comment[i] != '\0' && r == 0; i++)
			r = buf_put_u8(line, (unsigned char)comment[i] < 0x20 &&
			    comment[i] != '\t' ? '?' : comment[i]);
		if (r != 0)
			goto out;
	}
	if ((k->line = buf_dup_string(line)) == NULL ||
	    (k->type = strdup(type)) == NULL ||
	    (k->blob = malloc(len)) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	memcpy(k->blob, blob, len);
	k->bloblen = len;
 out:
	if (r != 0)
		copyid_key_clear(k);
	buf_free(b);
	buf_free(line);
	return r;
}

int
copyid_key_from_blob(const uint8_t *blob, size_t len, const char *comment,
    struct copyid_key *k)
{
	struct buf *b;
	char *type = NULL;
	int r;

	if (k == NULL)
		return FERR_ARGUMENT;
	memset(k, 0, sizeof(*k));
	if (blob == NULL || len == 0)
		return FERR_FORMAT;
	if ((b = buf_from(blob, len)) == NULL)
		return FERR_ALLOC;
	if ((r = buf_get_cstring(b, &type, NULL)) == 0)
		r = cm_key_fill(type, blob, len, comment, k);
	free(type);
	buf_free(b);
	return r;
}

int
copyid_key_parse(const char *line, struct copyid_key *k)
{
	struct buf *blob = NULL;
	const char *s = line, *w, *b64;
	char *type = NULL, *comment = NULL;
	size_t wlen, b64len, clen;
	int r;

	if (k == NULL)
		return FERR_ARGUMENT;
	memset(k, 0, sizeof(*k));
	if (line == NULL)
		return FERR_ARGUMENT;
	w = cm_word(&s, &wlen);
	b64 = cm_word(&s, &b64len);
	if (wlen == 0 || b64len == 0)
		return FERR_FORMAT;
	s += strspn(s, CM_BLANKS);
	clen = strlen(s);
	while (clen > 0 && strchr(" \t\r\n", s[clen - 1]) != NULL)
		clen--;
	/* Without a comment the base64 word carries the line ending. */
	while (b64len > 0 && strchr("\r\n", b64[b64len - 1]) != NULL)
		b64len--;
	if ((blob = buf_new()) == NULL ||
	    (type = cm_strndup(w, wlen)) == NULL ||
	    (comment = cm_strndup(s, clen)) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if (!key_type_name_known(type)) {
		r = FERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	if ((r = cm_decode(b64, b64len, blob)) != 0)
		goto out;
	r = cm_key_fill(type, buf_ptr(blob), buf_len(blob), comment, k);
 out:
	buf_free(blob);
	free(type);
	free(comment);
	return r;
}

int
copyid_keys_from_text(const uint8_t *p, size_t len, struct copyid_key *keys,
    size_t max, size_t *nkeysp, unsigned long *badlinep)
{
	const uint8_t *end = p + len, *nl;
	unsigned long lineno = 0;
	const char *s;
	char *line;
	size_t llen;
	int r;

	if (badlinep != NULL)
		*badlinep = 0;
	if (keys == NULL || nkeysp == NULL || (p == NULL && len != 0))
		return FERR_ARGUMENT;
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', (size_t)(end - p));
		llen = (nl != NULL ? nl : end) - p;
		if (memchr(p, '\0', llen) != NULL)
			r = FERR_FORMAT;
		else if ((line = cm_strndup((const char *)p, llen)) == NULL)
			r = FERR_ALLOC;
		else {
			s = line + strspn(line, " \t\r");
			if (*s == '\0' || *s == '#')
				r = 0;
			else if (*nkeysp >= max)
				r = FERR_NO_SPACE;
			else if ((r = copyid_key_parse(s, &keys[*nkeysp])) == 0)
				(*nkeysp)++;
			free(line);
		}
		if (r != 0) {
			if (badlinep != NULL)
				*badlinep = lineno;
			return r;
		}
		p += llen + (nl != NULL);
	}
	return 0;
}

void
copyid_plan_clear(struct copyid_plan *plan)
{
	if (plan == NULL)
		return;
	free(plan->add);
	buf_free(plan->text);
	memset(plan, 0, sizeof(*plan));
}

/* Mark in present[] the keys that the line (no line ending) holds. */
static int
cm_scan_line(const uint8_t *p, size_t len, const struct copyid_key *keys,
    size_t nkeys, unsigned char *present, struct buf *blob)
{
	const char *type;
	char *line;
	size_t tlen, i;

	while (len > 0 && p[len - 1] == '\r')
		len--;
	/* sshd reads a line as a C string: a NUL ends what it sees. */
	if (memchr(p, '\0', len) != NULL)
		len = (const uint8_t *)memchr(p, '\0', len) - p;
	if ((line = cm_strndup((const char *)p, len)) == NULL)
		return FERR_ALLOC;
	if (cm_line_key(line, &type, &tlen, blob)) {
		for (i = 0; i < nkeys; i++)
			if (tlen == strlen(keys[i].type) &&
			    memcmp(type, keys[i].type, tlen) == 0 &&
			    buf_len(blob) == keys[i].bloblen &&
			    memcmp(buf_ptr(blob), keys[i].blob,
			    keys[i].bloblen) == 0)
				present[i] = 1;
	}
	free(line);
	return 0;
}

/* Whether keys[i] repeats an earlier key. */
static int
cm_repeated(const struct copyid_key *keys, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (strcmp(keys[j].type, keys[i].type) == 0 &&
		    keys[j].bloblen == keys[i].bloblen &&
		    memcmp(keys[j].blob, keys[i].blob, keys[i].bloblen) == 0)
			return 1;
	return 0;
}

int
copyid_merge(const uint8_t *old, size_t oldlen,
    const struct copyid_key *keys, size_t nkeys, int force,
    struct copyid_plan *plan)
{
	unsigned char *present = NULL;
	const uint8_t *p, *end, *nl;
	struct buf *blob = NULL;
	const char *eol = "\n";
	size_t i;
	int r;

	if (plan == NULL)
		return FERR_ARGUMENT;
	memset(plan, 0, sizeof(*plan));
	if ((old == NULL && oldlen != 0) || (keys == NULL && nkeys != 0) ||
	    nkeys > COPYID_KEYS_MAX)
		return FERR_ARGUMENT;
	if ((plan->add = calloc(nkeys + 1, 1)) == NULL ||
	    (present = calloc(nkeys + 1, 1)) == NULL ||
	    (blob = buf_new()) == NULL || (plan->text = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	for (p = old, end = old + oldlen; !force && p < end; ) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if ((r = cm_scan_line(p, (size_t)((nl != NULL ? nl : end) - p),
		    keys, nkeys, present, blob)) != 0)
			goto out;
		p = nl != NULL ? nl + 1 : end;
	}
	for (i = 0; i < nkeys; i++) {
		if (!present[i] && !cm_repeated(keys, i)) {
			plan->add[i] = 1;
			plan->nadd++;
		}
	}
	if (oldlen > 0 && (nl = memchr(old, '\n', oldlen)) != NULL &&
	    nl > old && nl[-1] == '\r')
		eol = "\r\n";
	if (oldlen > 0 && (r = buf_put(plan->text, old, oldlen)) != 0)
		goto out;
	plan->keep = oldlen;
	if (plan->nadd > 0 && oldlen > 0 && old[oldlen - 1] != '\n' &&
	    (r = buf_put(plan->text, eol, strlen(eol))) != 0)
		goto out;
	for (i = 0; i < nkeys; i++) {
		if (plan->add[i] &&
		    ((r = buf_put(plan->text, keys[i].line,
		    strlen(keys[i].line))) != 0 ||
		    (r = buf_put(plan->text, eol, strlen(eol))) != 0))
			goto out;
	}
	r = 0;
 out:
	if (r != 0)
		copyid_plan_clear(plan);
	free(present);
	buf_free(blob);
	return r;
}
