/*
 * OpenSSH certificates: parsing with signature verification, the
 * acceptance decision, and signing.  See ferry/key-cert.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "ferry/authkeys.h"
#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key-cert.h"
#include "ferry/key.h"
#include "ferry/knownhosts.h"

#define KEY_CERT_NONCE_LEN	32

/* Certificate types: the plain type and how many public fields it has. */
static const struct {
	enum key_type type;
	const char *name;
	int nfields;
} key_cert_types[] = {
	{ KEY_ED25519, "ssh-ed25519-cert-v01@openssh.com", 1 },
	{ KEY_ECDSA_P256, "ecdsa-sha2-nistp256-cert-v01@openssh.com", 2 },
	{ KEY_ECDSA_P384, "ecdsa-sha2-nistp384-cert-v01@openssh.com", 2 },
	{ KEY_ECDSA_P521, "ecdsa-sha2-nistp521-cert-v01@openssh.com", 2 },
	{ KEY_RSA, "ssh-rsa-cert-v01@openssh.com", 2 },
};
#define KEY_CERT_NTYPES	(sizeof(key_cert_types) / sizeof(key_cert_types[0]))

/* Critical options a user certificate may carry. */
static const char *const key_cert_user_critical[] = {
	"force-command",
	"source-address",
	"verify-required",
};

/* OpenSSH's default extensions of a user certificate, sorted. */
static const char *const key_cert_default_ext[] = {
	"permit-X11-forwarding",
	"permit-agent-forwarding",
	"permit-port-forwarding",
	"permit-pty",
	"permit-user-rc",
};

const char *
key_cert_type_name(int type)
{
	size_t i;

	for (i = 0; i < KEY_CERT_NTYPES; i++)
		if ((int)key_cert_types[i].type == type)
			return key_cert_types[i].name;
	return NULL;
}

static int
key_cert_type_index(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < KEY_CERT_NTYPES; i++)
		if (strcmp(key_cert_types[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
key_cert_is_type_name(const char *name)
{
	return key_cert_type_index(name) >= 0;
}

static void
key_cert_free_options(struct key_cert_option *o, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(o[i].name);
		free(o[i].data);
	}
	free(o);
}

void
key_cert_free(struct key_cert *c)
{
	size_t i;

	if (c == NULL)
		return;
	free(c->type_name);
	key_free(c->key);
	free(c->nonce);
	free(c->key_id);
	for (i = 0; i < c->nprincipals; i++)
		free(c->principals[i]);
	free(c->principals);
	key_cert_free_options(c->critical, c->ncritical);
	key_cert_free_options(c->extensions, c->nextensions);
	key_free(c->ca);
	free(c->sig_alg);
	free(c->blob);
	free(c->comment);
	free(c);
}

/* Packed principals: strings without NULs, at most the cap. */
static int
key_cert_parse_principals(struct buf *pb, struct key_cert *c)
{
	char **l, *s;
	int r;

	while (buf_len(pb) > 0) {
		if (c->nprincipals >= KEY_CERT_MAX_PRINCIPALS)
			return FERR_CERT_INVALID;
		if ((r = buf_get_cstring(pb, &s, NULL)) != 0)
			return r;
		if ((l = reallocarray(c->principals, c->nprincipals + 1,
		    sizeof(*l))) == NULL) {
			free(s);
			return FERR_ALLOC;
		}
		c->principals = l;
		l[c->nprincipals++] = s;
	}
	return 0;
}

/* Packed (name, data) pairs; names unique. */
static int
key_cert_parse_options(struct buf *ob, struct key_cert_option **op,
    size_t *np)
{
	struct key_cert_option *o;
	char *name;
	size_t i;
	int r;

	while (buf_len(ob) > 0) {
		if (*np >= KEY_CERT_MAX_OPTIONS)
			return FERR_CERT_INVALID;
		if ((r = buf_get_cstring(ob, &name, NULL)) != 0)
			return r;
		for (i = 0; i < *np; i++) {
			if (strcmp((*op)[i].name, name) == 0) {
				free(name);
				return FERR_CERT_INVALID;
			}
		}
		if ((o = reallocarray(*op, *np + 1, sizeof(*o))) == NULL) {
			free(name);
			return FERR_ALLOC;
		}
		*op = o;
		o[*np].name = name;
		o[*np].data = NULL;
		(*np)++;
		if ((r = buf_get_string(ob, &o[*np - 1].data,
		    &o[*np - 1].datalen)) != 0)
			return r;
	}
	return 0;
}

/* The certified key: its plain blob is the plain name and the fields. */
static int
key_cert_parse_key(struct buf *b, int idx, struct key **keyp)
{
	struct buf *plain;
	const uint8_t *f;
	size_t flen;
	int i, r;

	if ((plain = buf_new()) == NULL)
		return FERR_ALLOC;
	if ((r = buf_put_cstring(plain,
	    key_type_name(key_cert_types[idx].type))) != 0)
		goto out;
	for (i = 0; i < key_cert_types[idx].nfields; i++)
		if ((r = buf_get_string_direct(b, &f, &flen)) != 0 ||
		    (r = buf_put_string(plain, f, flen)) != 0)
			goto out;
	r = key_from_blob(plain, keyp);
 out:
	buf_free(plain);
	return r;
}

int
key_cert_from_blob(const uint8_t *p, size_t len, struct key_cert **certp)
{
	struct key_cert *c = NULL;
	struct buf *b = NULL, *sub = NULL, *sb = NULL;
	const uint8_t *cab, *sig;
	size_t cablen, siglen, signed_len;
	int idx, r;

	*certp = NULL;
	if (p == NULL)
		return FERR_ARGUMENT;
	if ((b = buf_from(p, len)) == NULL ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = buf_get_cstring(b, &c->type_name, NULL)) != 0)
		goto out;
	if ((idx = key_cert_type_index(c->type_name)) < 0) {
		r = FERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	if ((r = buf_get_string(b, &c->nonce, &c->noncelen)) != 0 ||
	    (r = key_cert_parse_key(b, idx, &c->key)) != 0 ||
	    (r = buf_get_u64(b, &c->serial)) != 0 ||
	    (r = buf_get_u32(b, &c->type)) != 0 ||
	    (r = buf_get_cstring(b, &c->key_id, NULL)) != 0)
		goto out;
	if (c->type != KEY_CERT_USER && c->type != KEY_CERT_HOST) {
		r = FERR_CERT_INVALID;
		goto out;
	}
	if ((r = buf_froms(b, &sub)) != 0 ||
	    (r = key_cert_parse_principals(sub, c)) != 0)
		goto out;
	buf_free(sub);
	sub = NULL;
	if ((r = buf_get_u64(b, &c->valid_after)) != 0 ||
	    (r = buf_get_u64(b, &c->valid_before)) != 0)
		goto out;
	if ((r = buf_froms(b, &sub)) != 0 ||
	    (r = key_cert_parse_options(sub, &c->critical,
	    &c->ncritical)) != 0)
		goto out;
	buf_free(sub);
	sub = NULL;
	if ((r = buf_froms(b, &sub)) != 0 ||
	    (r = key_cert_parse_options(sub, &c->extensions,
	    &c->nextensions)) != 0)
		goto out;
	buf_free(sub);
	sub = NULL;
	/* reserved: ignored, as PROTOCOL.certkeys says */
	if ((r = buf_get_string_direct(b, NULL, NULL)) != 0 ||
	    (r = buf_get_string_direct(b, &cab, &cablen)) != 0)
		goto out;
	signed_len = len - buf_len(b);
	if ((r = buf_get_string_direct(b, &sig, &siglen)) != 0 ||
	    (r = buf_expect_end(b)) != 0)
		goto out;
	/* A CA key is a plain key: a certificate blob does not parse. */
	if ((r = key_from_blob_mem(cab, cablen, &c->ca)) != 0) {
		r = r == FERR_ALLOC ? r : FERR_CERT_INVALID;
		goto out;
	}
	if ((sb = buf_from(sig, siglen)) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = buf_get_cstring(sb, &c->sig_alg, NULL)) != 0)
		goto out;
	if ((r = key_verify(c->ca, sig, siglen, p, signed_len, NULL, 0)) != 0)
		goto out;
	if ((c->blob = malloc(len)) == NULL ||
	    (c->comment = strdup("")) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	memcpy(c->blob, p, len);
	c->bloblen = len;
	*certp = c;
	c = NULL;
	r = 0;
 out:
	buf_free(sub);
	buf_free(sb);
	buf_free(b);
	key_cert_free(c);
	return r;
}

int
key_cert_parse_line(const char *line, struct key_cert **certp)
{
	struct buf *b = NULL;
	const char *s, *e, *t;
	char *word = NULL, *b64 = NULL, *comment = NULL;
	size_t n;
	int r;

	*certp = NULL;
	if (line == NULL)
		return FERR_ARGUMENT;
	s = line + strspn(line, " \t");
	n = strcspn(s, " \t\r\n");
	if ((word = strndup(s, n)) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	s += n;
	s += strspn(s, " \t");
	n = strcspn(s, " \t\r\n");
	if (n == 0) {
		r = FERR_FORMAT;
		goto out;
	}
	if ((b64 = strndup(s, n)) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	s += n;
	s += strspn(s, " \t");
	/* The comment: the rest of the line, trailing blanks dropped. */
	for (e = s + strlen(s); e > s && strchr(" \t\r\n", e[-1]) != NULL;
	    e--)
		;
	if ((comment = strndup(s, (size_t)(e - s))) == NULL ||
	    (b = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if (!key_cert_is_type_name(word)) {
		r = FERR_KEY_TYPE_UNKNOWN;
		goto out;
	}
	if ((r = buf_put_b64_decoded(b, b64)) != 0 ||
	    (r = key_cert_from_blob(buf_ptr(b), buf_len(b), certp)) != 0)
		goto out;
	t = (*certp)->type_name;
	if (strcmp(t, word) != 0) {
		key_cert_free(*certp);
		*certp = NULL;
		r = FERR_KEY_TYPE_MISMATCH;
		goto out;
	}
	free((*certp)->comment);
	(*certp)->comment = comment;
	comment = NULL;
 out:
	free(word);
	free(b64);
	free(comment);
	buf_free(b);
	return r;
}

int
key_cert_format_line(const struct key_cert *c, struct buf *out)
{
	int r;

	if (c == NULL || out == NULL)
		return FERR_ARGUMENT;
	if ((r = buf_putf(out, "%s ", c->type_name)) != 0 ||
	    (r = buf_put_b64(out, c->blob, c->bloblen)) != 0)
		return r;
	if (c->comment != NULL && *c->comment != '\0')
		r = buf_putf(out, " %s", c->comment);
	return r;
}

static const struct key_cert_option *
key_cert_find(const struct key_cert_option *o, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(o[i].name, name) == 0)
			return &o[i];
	return NULL;
}

int
key_cert_option_string(const struct key_cert *c, const char *name,
    char **valp)
{
	const struct key_cert_option *o;
	struct buf *b;
	int r;

	*valp = NULL;
	if (c == NULL || name == NULL)
		return FERR_ARGUMENT;
	if ((o = key_cert_find(c->critical, c->ncritical, name)) == NULL)
		return 0;
	if ((b = buf_from(o->data, o->datalen)) == NULL)
		return FERR_ALLOC;
	if ((r = buf_get_cstring(b, valp, NULL)) == 0 &&
	    (r = buf_expect_end(b)) != 0) {
		free(*valp);
		*valp = NULL;
	}
	buf_free(b);
	return r == 0 ? 0 : FERR_FORMAT;
}

int
key_cert_has_extension(const struct key_cert *c, const char *name)
{
	if (c == NULL || name == NULL)
		return 0;
	return key_cert_find(c->extensions, c->nextensions, name) != NULL;
}

static int
key_cert_refuse(const char **reasonp, const char *why)
{
	if (reasonp != NULL)
		*reasonp = why;
	return FERR_CERT_INVALID;
}

/* The critical options: all understood, source-address satisfied. */
static int
key_cert_check_critical(const struct key_cert *c, const char *client_addr,
    const char **reasonp)
{
	char *src = NULL;
	size_t i, j;
	int r, known;

	for (i = 0; i < c->ncritical; i++) {
		known = 0;
		for (j = 0; c->type == KEY_CERT_USER &&
		    j < sizeof(key_cert_user_critical) /
		    sizeof(key_cert_user_critical[0]); j++)
			if (strcmp(c->critical[i].name,
			    key_cert_user_critical[j]) == 0)
				known = 1;
		if (!known)
			return key_cert_refuse(reasonp,
			    "unsupported critical option");
	}
	/* Ferry has no security keys, whose signatures could satisfy it. */
	if (key_cert_find(c->critical, c->ncritical, "verify-required"))
		return key_cert_refuse(reasonp,
		    "verify-required needs a security key");
	if ((r = key_cert_option_string(c, "force-command", &src)) != 0)
		return key_cert_refuse(reasonp, "malformed force-command");
	free(src);
	if ((r = key_cert_option_string(c, "source-address", &src)) != 0)
		return key_cert_refuse(reasonp, "malformed source-address");
	if (src != NULL) {
		r = client_addr != NULL &&
		    authkeys_match_from(src, client_addr, NULL) == 1;
		free(src);
		if (!r)
			return key_cert_refuse(reasonp,
			    "source address not permitted");
	}
	return 0;
}

int
key_cert_check(const struct key_cert *c, enum key_cert_type want,
    const char *name, uint64_t now, const struct key *const *cas,
    size_t ncas, const char *client_addr, const char **reasonp)
{
	size_t i;
	int found;

	if (reasonp != NULL)
		*reasonp = NULL;
	if (c == NULL || (cas == NULL && ncas > 0))
		return FERR_ARGUMENT;
	if (c->type != (uint32_t)want)
		return key_cert_refuse(reasonp, want == KEY_CERT_USER ?
		    "not a user certificate" : "not a host certificate");
	for (i = 0, found = ncas == 0; i < ncas && !found; i++)
		found = key_equal_public(cas[i], c->ca);
	if (!found)
		return key_cert_refuse(reasonp,
		    "signed by an unrecognized authority");
	if (now < c->valid_after)
		return key_cert_refuse(reasonp, "certificate not yet valid");
	if (now >= c->valid_before)
		return key_cert_refuse(reasonp, "certificate expired");
	if (name != NULL) {
		if (c->nprincipals == 0)
			return key_cert_refuse(reasonp,
			    "certificate lacks principal list");
		for (i = 0, found = 0; i < c->nprincipals && !found; i++)
			found = want == KEY_CERT_HOST ?
			    knownhosts_match_pattern(name, c->principals[i]) :
			    strcmp(name, c->principals[i]) == 0;
		if (!found)
			return key_cert_refuse(reasonp,
			    "name is not a listed principal");
	}
	return key_cert_check_critical(c, client_addr, reasonp);
}

static int
key_cert_strcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Append a critical option whose data is one string. */
static int
key_cert_put_string_option(struct buf *b, const char *name, const char *val)
{
	size_t off;
	int r;

	if ((r = buf_put_cstring(b, name)) != 0 ||
	    (r = buf_begin_string(b, &off)) != 0 ||
	    (r = buf_put_cstring(b, val)) != 0 ||
	    (r = buf_end_string(b, off)) != 0)
		return r;
	return 0;
}

/* Extensions, sorted and unique, each with empty data. */
static int
key_cert_put_extensions(struct buf *b, const struct key_cert_params *p)
{
	const char *const *ext = p->extensions;
	const char **sorted = NULL;
	size_t i, n = p->nextensions, off;
	int r;

	if (p->no_extensions)
		n = 0;
	else if (ext == NULL && p->type == KEY_CERT_USER) {
		ext = key_cert_default_ext;
		n = sizeof(key_cert_default_ext) /
		    sizeof(key_cert_default_ext[0]);
	} else if (ext == NULL)
		n = 0;
	if (n > KEY_CERT_MAX_OPTIONS)
		return FERR_ARGUMENT;
	if ((r = buf_begin_string(b, &off)) != 0)
		return r;
	if (n > 0) {
		if ((sorted = calloc(n, sizeof(*sorted))) == NULL)
			return FERR_ALLOC;
		memcpy(sorted, ext, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), key_cert_strcmp);
	}
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(sorted[i - 1], sorted[i]) == 0) {
			r = FERR_ARGUMENT;
			goto out;
		}
		if ((r = buf_put_cstring(b, sorted[i])) != 0 ||
		    (r = buf_put_string(b, NULL, 0)) != 0)
			goto out;
	}
	r = buf_end_string(b, off);
 out:
	free(sorted);
	return r;
}

int
key_cert_sign(const struct key *key, const struct key *ca,
    const struct key_cert_params *p, struct key_cert **certp)
{
	struct buf *b = NULL, *kb = NULL, *sig = NULL;
	uint8_t nonce[KEY_CERT_NONCE_LEN];
	const char *tname;
	size_t i, off;
	int r;

	*certp = NULL;
	if (key == NULL || ca == NULL || p == NULL || p->key_id == NULL ||
	    (p->principals == NULL && p->nprincipals > 0) ||
	    p->nprincipals > KEY_CERT_MAX_PRINCIPALS ||
	    (p->type != KEY_CERT_USER && p->type != KEY_CERT_HOST) ||
	    !key_is_private(ca))
		return FERR_ARGUMENT;
	if ((tname = key_cert_type_name(key_get_type(key))) == NULL)
		return FERR_KEY_TYPE_UNKNOWN;
	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return FERR_LIBCRYPTO;
	if ((b = buf_new()) == NULL || (kb = buf_new()) == NULL ||
	    (sig = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	/* The key's public fields: its blob without the type name. */
	if ((r = key_to_blob(key, kb)) != 0 ||
	    (r = buf_get_string_direct(kb, NULL, NULL)) != 0)
		goto out;
	if ((r = buf_put_cstring(b, tname)) != 0 ||
	    (r = buf_put_string(b, nonce, sizeof(nonce))) != 0 ||
	    (r = buf_putb(b, kb)) != 0 ||
	    (r = buf_put_u64(b, p->serial)) != 0 ||
	    (r = buf_put_u32(b, (uint32_t)p->type)) != 0 ||
	    (r = buf_put_cstring(b, p->key_id)) != 0 ||
	    (r = buf_begin_string(b, &off)) != 0)
		goto out;
	for (i = 0; i < p->nprincipals; i++)
		if ((r = buf_put_cstring(b, p->principals[i])) != 0)
			goto out;
	if ((r = buf_end_string(b, off)) != 0 ||
	    (r = buf_put_u64(b, p->valid_after)) != 0 ||
	    (r = buf_put_u64(b, p->valid_before)) != 0 ||
	    (r = buf_begin_string(b, &off)) != 0)
		goto out;
	/* Critical options in lexical order. */
	if ((p->force_command != NULL &&
	    (r = key_cert_put_string_option(b, "force-command",
	    p->force_command)) != 0) ||
	    (p->source_address != NULL &&
	    (r = key_cert_put_string_option(b, "source-address",
	    p->source_address)) != 0))
		goto out;
	if ((r = buf_end_string(b, off)) != 0 ||
	    (r = key_cert_put_extensions(b, p)) != 0 ||
	    (r = buf_put_string(b, NULL, 0)) != 0 ||
	    (r = buf_begin_string(b, &off)) != 0 ||
	    (r = key_to_blob(ca, b)) != 0 ||
	    (r = buf_end_string(b, off)) != 0 ||
	    (r = key_sign(ca, p->sig_alg, buf_ptr(b), buf_len(b), 0,
	    sig)) != 0 ||
	    (r = buf_put_stringb(b, sig)) != 0)
		goto out;
	if ((r = key_cert_from_blob(buf_ptr(b), buf_len(b), certp)) != 0)
		goto out;
	free((*certp)->comment);
	if (((*certp)->comment = strdup(key_comment(key))) == NULL) {
		key_cert_free(*certp);
		*certp = NULL;
		r = FERR_ALLOC;
	}
 out:
	buf_free(b);
	buf_free(kb);
	buf_free(sig);
	return r;
}
