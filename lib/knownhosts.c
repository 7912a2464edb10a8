/*
 * known_hosts: parsing, host patterns, hashed names, the client's host
 * key decision and adding entries.  See ferry/knownhosts.h for the
 * format.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/knownhosts.h"
#include "ferry/log.h"
#include "misc.h"

#define KH_HASH_MAGIC		"|1|"
#define KH_LOCK_TRIES		10

static const struct {
	const char *word;
	enum knownhosts_marker marker;
} kh_markers[] = {
	{ "@cert-authority", KNOWNHOSTS_MARKER_CA },
	{ "@revoked", KNOWNHOSTS_MARKER_REVOKED },
};

void
knownhosts_entry_free(struct knownhosts_entry *ent)
{
	if (ent == NULL)
		return;
	free(ent->hosts);
	free(ent->keytype);
	key_free(ent->key);
	free(ent->comment);
	free(ent);
}

static int
kh_is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Copy the word at *sp into a new string and advance past it. */
static char *
kh_word(const char **sp)
{
	const char *s = *sp, *e;
	char *w;

	for (e = s; *e != '\0' && !kh_is_space(*e) && *e != '\r' &&
	    *e != '\n'; e++)
		;
	if ((w = strndup(s, (size_t)(e - s))) == NULL)
		return NULL;
	for (; kh_is_space(*e); e++)
		;
	*sp = e;
	return w;
}

/* Decode base64 text s into out, which must then hold exactly want. */
static int
kh_b64_exact(const char *s, size_t n, uint8_t *out, size_t want)
{
	struct buf *b;
	char *tmp;
	int r;

	if (n == 0 || (tmp = strndup(s, n)) == NULL)
		return n == 0 ? FERR_FORMAT : FERR_ALLOC;
	if ((b = buf_new()) == NULL) {
		free(tmp);
		return FERR_ALLOC;
	}
	if ((r = buf_put_b64_decoded(b, tmp)) == 0 && buf_len(b) != want)
		r = FERR_FORMAT;
	if (r == 0)
		r = buf_get(b, out, want);
	buf_free(b);
	free(tmp);
	return r;
}

/*
 * Split "|1|salt|hash" into its decoded parts; FERR_FORMAT when it is not
 * a well-formed hashed name.
 */
static int
kh_split_hashed(const char *hosts, uint8_t salt[KNOWNHOSTS_SALT_LEN],
    uint8_t hash[KNOWNHOSTS_SALT_LEN])
{
	const char *s, *bar;
	int r;

	if (strncmp(hosts, KH_HASH_MAGIC, strlen(KH_HASH_MAGIC)) != 0)
		return FERR_FORMAT;
	s = hosts + strlen(KH_HASH_MAGIC);
	if ((bar = strchr(s, '|')) == NULL)
		return FERR_FORMAT;
	if ((r = kh_b64_exact(s, (size_t)(bar - s), salt,
	    KNOWNHOSTS_SALT_LEN)) != 0 ||
	    (r = kh_b64_exact(bar + 1, strlen(bar + 1), hash,
	    KNOWNHOSTS_SALT_LEN)) != 0)
		return r;
	return 0;
}

/*
 * A key of a type Ferry does not support: the type must be one OpenSSH
 * knows and the base64 must decode to a blob that names it.
 */
static int
kh_foreign_key(const char *type, const char *b64)
{
	struct buf *b = NULL;
	const uint8_t *name;
	size_t namelen;
	char *tmp = NULL;
	const char *e;
	int r = FERR_KEY_TYPE_UNKNOWN;

	if (!key_type_name_known(type))
		return FERR_KEY_TYPE_UNKNOWN;
	for (e = b64; *e != '\0' && !kh_is_space(*e) && *e != '\r' &&
	    *e != '\n'; e++)
		;
	if ((tmp = strndup(b64, (size_t)(e - b64))) == NULL ||
	    (b = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = buf_put_b64_decoded(b, tmp)) != 0 ||
	    (r = buf_get_string_direct(b, &name, &namelen)) != 0)
		goto out;
	if (namelen != strlen(type) || memcmp(name, type, namelen) != 0)
		r = FERR_KEY_TYPE_MISMATCH;
 out:
	buf_free(b);
	free(tmp);
	return r;
}

int
knownhosts_parse_line(const char *line, struct knownhosts_entry **entp,
    enum knownhosts_line_kind *kindp)
{
	struct knownhosts_entry *ent = NULL;
	uint8_t salt[KNOWNHOSTS_SALT_LEN], hash[KNOWNHOSTS_SALT_LEN];
	const char *s = line, *keystart;
	char *word = NULL;
	size_t i;
	int r;

	*entp = NULL;
	*kindp = KNOWNHOSTS_LINE_INVALID;
	if (line == NULL)
		return FERR_ARGUMENT;
	for (; kh_is_space(*s); s++)
		;
	if (*s == '\0' || *s == '#' || *s == '\n' || *s == '\r') {
		*kindp = KNOWNHOSTS_LINE_SKIP;
		return 0;
	}
	if ((ent = calloc(1, sizeof(*ent))) == NULL)
		return FERR_ALLOC;
	if (*s == '@') {
		if ((word = kh_word(&s)) == NULL) {
			r = FERR_ALLOC;
			goto out;
		}
		for (i = 0; i < sizeof(kh_markers) / sizeof(kh_markers[0]);
		    i++)
			if (strcmp(word, kh_markers[i].word) == 0)
				break;
		if (i == sizeof(kh_markers) / sizeof(kh_markers[0])) {
			r = FERR_FORMAT;
			goto out;
		}
		ent->marker = kh_markers[i].marker;
	}
	if ((ent->hosts = kh_word(&s)) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if (*ent->hosts == '\0') {
		r = FERR_FORMAT;
		goto out;
	}
	if (ent->hosts[0] == '|') {
		/* A hashed name must be well formed and alone. */
		if ((r = kh_split_hashed(ent->hosts, salt, hash)) != 0)
			goto out;
		ent->hashed = 1;
	}
	keystart = s;
	if ((ent->keytype = kh_word(&s)) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if (*ent->keytype == '\0' || *s == '\0' || *s == '\n' ||
	    *s == '\r') {
		r = FERR_FORMAT;
		goto out;
	}
	if ((r = key_parse_public_line(keystart, &ent->key)) == 0) {
		if ((ent->comment = strdup(key_comment(ent->key))) == NULL)
			r = FERR_ALLOC;
		goto out;
	}
	if (r == FERR_ALLOC || (r = kh_foreign_key(ent->keytype, s)) != 0)
		goto out;
	/* The comment of an unsupported key is not kept. */
	if ((ent->comment = strdup("")) == NULL)
		r = FERR_ALLOC;
 out:
	free(word);
	explicit_bzero(hash, sizeof(hash));
	if (r != 0) {
		knownhosts_entry_free(ent);
		return r;
	}
	*entp = ent;
	*kindp = KNOWNHOSTS_LINE_ENTRY;
	return 0;
}

/*
 * Glob match of s against pattern p of length plen, case-insensitive.
 * Iterative with one backtrack point (the last "*"), so the cost is
 * bounded by the product of the lengths whatever the input.
 */
static int
kh_glob(const char *s, const char *p, size_t plen)
{
	const char *star_p = NULL, *star_s = NULL, *pe = p + plen;

	while (*s != '\0') {
		if (p < pe && *p == '*') {
			star_p = ++p;
			star_s = s;
			continue;
		}
		if (p < pe && (*p == '?' ||
		    tolower((unsigned char)*p) == tolower((unsigned char)*s))) {
			p++;
			s++;
			continue;
		}
		if (star_p == NULL)
			return 0;
		p = star_p;
		s = ++star_s;
	}
	while (p < pe && *p == '*')
		p++;
	return p == pe;
}

int
knownhosts_match_pattern(const char *s, const char *pat)
{
	if (s == NULL || pat == NULL)
		return 0;
	return kh_glob(s, pat, strlen(pat));
}

int
knownhosts_match_list(const char *s, const char *list)
{
	const char *p, *e;
	int negated, got = 0;

	if (s == NULL || list == NULL)
		return 0;
	for (p = list; ; p = e + 1) {
		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		negated = *p == '!';
		if (negated)
			p++;
		if (kh_glob(s, p, (size_t)(e - p))) {
			if (negated)
				return -1;
			got = 1;
		}
		if (*e == '\0')
			break;
	}
	return got;
}

static int
kh_hmac(const char *name, const uint8_t *salt,
    uint8_t out[KNOWNHOSTS_SALT_LEN])
{
	unsigned int len = KNOWNHOSTS_SALT_LEN;

	if (HMAC(EVP_sha1(), salt, KNOWNHOSTS_SALT_LEN,
	    (const unsigned char *)name, strlen(name), out, &len) == NULL ||
	    len != KNOWNHOSTS_SALT_LEN)
		return FERR_LIBCRYPTO;
	return 0;
}

int
knownhosts_entry_matches(const struct knownhosts_entry *ent,
    const char *name)
{
	uint8_t salt[KNOWNHOSTS_SALT_LEN], hash[KNOWNHOSTS_SALT_LEN];
	uint8_t want[KNOWNHOSTS_SALT_LEN];
	int match = 0;

	if (ent == NULL || name == NULL)
		return 0;
	if (!ent->hashed)
		return knownhosts_match_list(name, ent->hosts) == 1;
	if (kh_split_hashed(ent->hosts, salt, want) == 0 &&
	    kh_hmac(name, salt, hash) == 0)
		match = CRYPTO_memcmp(hash, want, sizeof(hash)) == 0;
	explicit_bzero(hash, sizeof(hash));
	return match;
}

int
knownhosts_lookup_name(const char *host, unsigned int port,
    const char *alias, char **namep)
{
	char *name = NULL, *p;

	*namep = NULL;
	if (host == NULL && alias == NULL)
		return FERR_ARGUMENT;
	if (port > 65535)
		return FERR_NUMBER_RANGE;
	if (alias != NULL)
		name = strdup(alias);
	else if (port == 0 || port == 22)
		name = strdup(host);
	else if (asprintf(&name, "[%s]:%u", host, port) == -1)
		name = NULL;
	if (name == NULL)
		return FERR_ALLOC;
	if (*name == '\0') {
		free(name);
		return FERR_ARGUMENT;
	}
	for (p = name; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	*namep = name;
	return 0;
}

int
knownhosts_hash_name(const char *name, const uint8_t *salt,
    struct buf *out)
{
	uint8_t s[KNOWNHOSTS_SALT_LEN], h[KNOWNHOSTS_SALT_LEN];
	int r;

	if (name == NULL || out == NULL)
		return FERR_ARGUMENT;
	if (salt != NULL)
		memcpy(s, salt, sizeof(s));
	else if (RAND_bytes(s, sizeof(s)) != 1)
		return FERR_LIBCRYPTO;
	if ((r = kh_hmac(name, s, h)) != 0 ||
	    (r = buf_putf(out, "%s", KH_HASH_MAGIC)) != 0 ||
	    (r = buf_put_b64(out, s, sizeof(s))) != 0 ||
	    (r = buf_put_u8(out, '|')) != 0 ||
	    (r = buf_put_b64(out, h, sizeof(h))) != 0)
		goto out;
 out:
	explicit_bzero(h, sizeof(h));
	return r;
}

int
knownhosts_foreach_buf(const struct buf *b, knownhosts_cb *cb, void *ctx)
{
	const uint8_t *p, *end, *nl;
	struct knownhosts_entry *ent;
	enum knownhosts_line_kind kind;
	unsigned long lineno = 0;
	char *line;
	size_t n;
	int r = 0;

	if (b == NULL || cb == NULL)
		return FERR_ARGUMENT;
	p = buf_ptr(b);
	end = p + buf_len(b);
	while (p < end) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if ((line = strndup((const char *)p, n)) == NULL)
			return FERR_ALLOC;
		ent = NULL;
		if (memchr(p, '\0', n) != NULL) {
			kind = KNOWNHOSTS_LINE_INVALID;
		} else if ((r = knownhosts_parse_line(line, &ent,
		    &kind)) == FERR_ALLOC) {
			free(line);
			return r;
		}
		r = cb(line, lineno, kind, ent, ctx);
		knownhosts_entry_free(ent);
		free(line);
		if (r != 0)
			return r;
		p = nl < end ? nl + 1 : end;
	}
	return 0;
}

int
knownhosts_foreach(const char *path, knownhosts_cb *cb, void *ctx)
{
	struct buf *b = NULL;
	int r;

	if (path == NULL || cb == NULL)
		return FERR_ARGUMENT;
	if ((r = key_read_file(path, KNOWNHOSTS_FILE_MAX, &b)) != 0)
		return r;
	r = knownhosts_foreach_buf(b, cb, ctx);
	buf_free(b);
	return r;
}

/* State of knownhosts_check while it walks the files. */
struct kh_check {
	const char *name;
	const char *path;
	const struct key *key;
	/* The deciding entry of each status, first one found. */
	const char *file[KNOWNHOSTS_UNKNOWN + 1];
	unsigned long line[KNOWNHOSTS_UNKNOWN + 1];
	struct key *known[KNOWNHOSTS_UNKNOWN + 1];
	unsigned int other_types;
};

static int
kh_check_note(struct kh_check *c, enum knownhosts_status st,
    const struct knownhosts_entry *ent, unsigned long lineno)
{
	if (c->file[st] != NULL)
		return 0;
	c->file[st] = c->path;
	c->line[st] = lineno;
	return key_demote(ent->key, &c->known[st]);
}

static int
kh_check_cb(const char *raw, unsigned long lineno,
    enum knownhosts_line_kind kind, const struct knownhosts_entry *ent,
    void *ctx)
{
	struct kh_check *c = ctx;

	(void)raw;
	if (kind == KNOWNHOSTS_LINE_INVALID)
		log_debug("%s:%lu: invalid known_hosts line skipped",
		    c->path, lineno);
	if (kind != KNOWNHOSTS_LINE_ENTRY || ent->key == NULL ||
	    !knownhosts_entry_matches(ent, c->name))
		return 0;
	switch (ent->marker) {
	case KNOWNHOSTS_MARKER_REVOKED:
		if (key_equal_public(ent->key, c->key))
			return kh_check_note(c, KNOWNHOSTS_REVOKED, ent,
			    lineno);
		return 0;
	case KNOWNHOSTS_MARKER_NONE:
		if (key_equal_public(ent->key, c->key))
			return kh_check_note(c, KNOWNHOSTS_MATCH, ent, lineno);
		if (key_get_type(ent->key) == key_get_type(c->key))
			return kh_check_note(c, KNOWNHOSTS_MISMATCH, ent,
			    lineno);
		c->other_types++;
		return 0;
	case KNOWNHOSTS_MARKER_CA:
	default:
		return 0;
	}
}

void
knownhosts_result_clear(struct knownhosts_result *res)
{
	if (res == NULL)
		return;
	free(res->file);
	free(res->known_fp);
	free(res->offered_fp);
	memset(res, 0, sizeof(*res));
	res->status = KNOWNHOSTS_ERROR;
}

int
knownhosts_check(const char *const *files, size_t nfiles,
    const char *host, unsigned int port, const char *alias,
    const struct key *key, struct knownhosts_result *res)
{
	static const enum knownhosts_status order[] = {
		KNOWNHOSTS_REVOKED, KNOWNHOSTS_MATCH, KNOWNHOSTS_MISMATCH,
	};
	struct kh_check c;
	char *name = NULL;
	size_t i;
	int r;

	if (res == NULL)
		return FERR_ARGUMENT;
	memset(res, 0, sizeof(*res));
	res->status = KNOWNHOSTS_ERROR;
	memset(&c, 0, sizeof(c));
	if ((files == NULL && nfiles > 0) || key == NULL)
		return FERR_ARGUMENT;
	if ((r = knownhosts_lookup_name(host, port, alias, &name)) != 0)
		return r;
	c.name = name;
	c.key = key;
	for (i = 0; i < nfiles; i++) {
		c.path = files[i];
		r = knownhosts_foreach(files[i], kh_check_cb, &c);
		if (r == FERR_SYSTEM && errno == ENOENT) {
			r = 0;
			continue;
		}
		if (r != 0) {
			log_msg_r(LOGL_ERROR, r, "known_hosts file %s",
			    files[i]);
			goto out;
		}
	}
	if ((r = key_fingerprint(key, KEY_FP_SHA256, &res->offered_fp)) != 0)
		goto out;
	res->status = KNOWNHOSTS_UNKNOWN;
	res->other_types = c.other_types;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (c.file[order[i]] == NULL)
			continue;
		if ((res->file = strdup(c.file[order[i]])) == NULL) {
			r = FERR_ALLOC;
			goto out;
		}
		res->line = c.line[order[i]];
		if ((r = key_fingerprint(c.known[order[i]], KEY_FP_SHA256,
		    &res->known_fp)) != 0)
			goto out;
		res->status = order[i];
		break;
	}
	r = 0;
 out:
	for (i = 0; i <= KNOWNHOSTS_UNKNOWN; i++)
		key_free(c.known[i]);
	free(name);
	if (r != 0)
		knownhosts_result_clear(res);
	return r;
}

/* The line "name type base64\n" for key, name hashed when asked. */
static int
kh_format_entry(const char *name, const struct key *key, int hash,
    struct buf *out)
{
	struct buf *blob;
	int r;

	if ((blob = buf_new()) == NULL)
		return FERR_ALLOC;
	if ((r = hash ? knownhosts_hash_name(name, NULL, out) :
	    buf_putf(out, "%s", name)) != 0 ||
	    (r = buf_putf(out, " %s ", key_type_name(key_get_type(key)))) != 0 ||
	    (r = key_to_blob(key, blob)) != 0 ||
	    (r = buf_put_b64(out, buf_ptr(blob), buf_len(blob))) != 0 ||
	    (r = buf_put_u8(out, '\n')) != 0)
		goto out;
 out:
	buf_free(blob);
	return r;
}

/* Read all of fd into b, at most KNOWNHOSTS_FILE_MAX bytes. */
static int
kh_read_fd(int fd, struct buf *b)
{
	uint8_t chunk[8192];
	ssize_t n;
	int r;

	for (;;) {
		if ((n = read(fd, chunk, sizeof(chunk))) == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return FERR_SYSTEM;
		}
		if ((size_t)n > KNOWNHOSTS_FILE_MAX - buf_len(b))
			return FERR_NO_SPACE;
		if ((r = buf_put(b, chunk, (size_t)n)) != 0)
			return r;
	}
}

/*
 * Open and lock path, retrying when another writer renamed a new file
 * over it between our open and our lock.  *fdp gets the locked fd and
 * *stp its status.
 */
static int
kh_open_locked(const char *path, int *fdp, struct stat *stp)
{
	struct stat st2;
	int fd, i;

	*fdp = -1;
	for (i = 0; i < KH_LOCK_TRIES; i++) {
		if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY,
		    0644)) == -1)
			return FERR_SYSTEM;
		if (flock(fd, LOCK_EX) == -1 || fstat(fd, stp) == -1)
			goto fail;
		if (!S_ISREG(stp->st_mode)) {
			close(fd);
			errno = EINVAL;
			return FERR_SYSTEM;
		}
		if (stat(path, &st2) == 0 && st2.st_dev == stp->st_dev &&
		    st2.st_ino == stp->st_ino) {
			*fdp = fd;
			return 0;
		}
		close(fd);
	}
	errno = EAGAIN;
	return FERR_SYSTEM;
 fail:
	i = errno;
	close(fd);
	errno = i;
	return FERR_SYSTEM;
}

int
knownhosts_add(const char *path, const char *name, const struct key *key,
    int hash)
{
	struct buf *b = NULL;
	struct stat st;
	uint8_t last;
	int fd = -1, r, saved;

	if (path == NULL || name == NULL || *name == '\0' || key == NULL ||
	    strpbrk(name, " \t\r\n") != NULL)
		return FERR_ARGUMENT;
	if ((r = kh_open_locked(path, &fd, &st)) != 0)
		return r;
	if ((b = buf_new()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if ((r = kh_read_fd(fd, b)) != 0)
		goto out;
	if (buf_len(b) > 0 &&
	    ((r = buf_peek_u8(b, buf_len(b) - 1, &last)) != 0 ||
	    (last != '\n' && (r = buf_put_u8(b, '\n')) != 0)))
		goto out;
	if ((r = kh_format_entry(name, key, hash, b)) != 0)
		goto out;
	r = key_write_file(path, b, (unsigned int)(st.st_mode & 07777));
 out:
	saved = errno;
	buf_free(b);
	if (fd != -1)
		close(fd);	/* drops the lock after the rename */
	errno = saved;
	return r;
}
