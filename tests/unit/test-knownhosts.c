/*
 * known_hosts: line parsing (good and malformed), patterns with
 * negation, hashed names against ssh-keygen -H output, lookup names,
 * the host key decision over several files, and adding entries.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/knownhosts.h"
#include "tap.h"

#define K1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEmqSKi2hbEMmTRm7ygxkcvIB" \
	"hFdpGkw4CDRvRMdwhcW"
#define K1_FP "SHA256:x2HJ9zQ1vYkwBoxO0k1Sea/FbLuXQB4fmt+uG6ht2kk"
#define K2 "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzd" \
	"HAyNTYAAABBBEJLs7Kuk6czbDdGMjwAZQOoN2aIkN1WcdYtUKvEAErFCz2N/Wwjunx" \
	"NqNlWQmpF2ItNaDAW7uUKUIcqTI+c4nI="
#define K2_FP "SHA256:dnzxbmkEUvXyVzM2MPYL46BaDiB9bH4vl0eo2vEROZI"
#define K3 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEAnOKcXlGQ7CNp4qRU6C+W/n" \
	"AAITwAJG6hL8EuQOqBn"

static char dir[] = "/tmp/ferry-kh-XXXXXX";

static void
write_file(const char *path, const char *text)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static char *
path_in(const char *name)
{
	static char p[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static struct key *
pub(const char *line)
{
	struct key *k = NULL;

	if (key_parse_public_line(line, &k) != 0) {
		fprintf(stderr, "bad test key\n");
		exit(1);
	}
	return k;
}

static const struct {
	const char *line;
	int r;			/* 0 or an error */
	enum knownhosts_line_kind kind;
	enum knownhosts_marker marker;
	const char *hosts;
	int haskey;
	const char *comment;
} parse_cases[] = {
	{ "", 0, KNOWNHOSTS_LINE_SKIP, 0, NULL, 0, NULL },
	{ "   \t", 0, KNOWNHOSTS_LINE_SKIP, 0, NULL, 0, NULL },
	{ "# a comment " K1, 0, KNOWNHOSTS_LINE_SKIP, 0, NULL, 0, NULL },
	{ "  #indented", 0, KNOWNHOSTS_LINE_SKIP, 0, NULL, 0, NULL },
	{ "host1,10.0.0.1 " K1, 0, KNOWNHOSTS_LINE_ENTRY,
	    KNOWNHOSTS_MARKER_NONE, "host1,10.0.0.1", 1, "" },
	{ "[host2]:2222 " K2 " some comment\n", 0, KNOWNHOSTS_LINE_ENTRY,
	    KNOWNHOSTS_MARKER_NONE, "[host2]:2222", 1, "some comment" },
	{ "\t host1\t" K1 "\r\n", 0, KNOWNHOSTS_LINE_ENTRY,
	    KNOWNHOSTS_MARKER_NONE, "host1", 1, "" },
	{ "@cert-authority *.example.com " K2, 0, KNOWNHOSTS_LINE_ENTRY,
	    KNOWNHOSTS_MARKER_CA, "*.example.com", 1, "" },
	{ "@revoked host3 " K1, 0, KNOWNHOSTS_LINE_ENTRY,
	    KNOWNHOSTS_MARKER_REVOKED, "host3", 1, "" },
	{ "|1|5INDs5jcElVx/ihi5zP6xwsPnTw=|nYiTRp4+AkqautrmFAulGkCFrXE= " K1,
	    0, KNOWNHOSTS_LINE_ENTRY, KNOWNHOSTS_MARKER_NONE,
	    "|1|5INDs5jcElVx/ihi5zP6xwsPnTw=|nYiTRp4+AkqautrmFAulGkCFrXE=", 1,
	    "" },
	/* A type OpenSSH knows but Ferry does not: valid, no key. */
	{ "oldhost ssh-dss AAAAB3NzaC1kc3M= x", 0, KNOWNHOSTS_LINE_ENTRY,
	    KNOWNHOSTS_MARKER_NONE, "oldhost", 0, "" },
	/* Malformed lines. */
	{ "@bogus host1 " K1, FERR_FORMAT, KNOWNHOSTS_LINE_INVALID, 0, NULL,
	    0, NULL },
	{ "@revoked", FERR_FORMAT, KNOWNHOSTS_LINE_INVALID, 0, NULL, 0,
	    NULL },
	{ "host1", FERR_FORMAT, KNOWNHOSTS_LINE_INVALID, 0, NULL, 0, NULL },
	{ "host1 ssh-ed25519", FERR_FORMAT, KNOWNHOSTS_LINE_INVALID, 0,
	    NULL, 0, NULL },
	{ "host1 ssh-foo AAAA", FERR_KEY_TYPE_UNKNOWN,
	    KNOWNHOSTS_LINE_INVALID, 0, NULL, 0, NULL },
	{ "host1 ssh-dss AAAAC3NzaC1lZDI1NTE5", FERR_KEY_TYPE_MISMATCH,
	    KNOWNHOSTS_LINE_INVALID, 0, NULL, 0, NULL },
	{ "host1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEmqSKi2hbEMm", -1,
	    KNOWNHOSTS_LINE_INVALID, 0, NULL, 0, NULL },
	{ "host1 ecdsa-sha2-nistp256 AAAAC3NzaC1lZDI1NTE5AAAAIEmqSKi2hbEMmTR"
	    "m7ygxkcvIBhFdpGkw4CDRvRMdwhcW", -1, KNOWNHOSTS_LINE_INVALID, 0,
	    NULL, 0, NULL },
	{ "|1|short=|nYiTRp4+AkqautrmFAulGkCFrXE= " K1, FERR_FORMAT,
	    KNOWNHOSTS_LINE_INVALID, 0, NULL, 0, NULL },
	{ "|1|5INDs5jcElVx/ihi5zP6xwsPnTw= " K1, FERR_FORMAT,
	    KNOWNHOSTS_LINE_INVALID, 0, NULL, 0, NULL },
	{ "|2|5INDs5jcElVx/ihi5zP6xwsPnTw=|nYiTRp4+AkqautrmFAulGkCFrXE= " K1,
	    FERR_FORMAT, KNOWNHOSTS_LINE_INVALID, 0, NULL, 0, NULL },
};

static void
test_parse(void)
{
	struct knownhosts_entry *e;
	enum knownhosts_line_kind kind;
	size_t i;
	int r;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		r = knownhosts_parse_line(parse_cases[i].line, &e, &kind);
		if (parse_cases[i].r == -1)
			ok(r < 0, "parse %zu fails (%d)", i, r);
		else
			is_int(r, parse_cases[i].r, "parse %zu result", i);
		is_int(kind, parse_cases[i].kind, "parse %zu kind", i);
		if (parse_cases[i].hosts == NULL) {
			ok(e == NULL, "parse %zu: no entry", i);
			continue;
		}
		if (e == NULL) {
			ok(0, "parse %zu: entry", i);
			continue;
		}
		is_int(e->marker, parse_cases[i].marker, "parse %zu marker", i);
		ok(strcmp(e->hosts, parse_cases[i].hosts) == 0,
		    "parse %zu hosts %s", i, e->hosts);
		is_int(e->key != NULL, parse_cases[i].haskey, "parse %zu key",
		    i);
		ok(strcmp(e->comment, parse_cases[i].comment) == 0,
		    "parse %zu comment '%s'", i, e->comment);
		is_int(e->hashed, e->hosts[0] == '|', "parse %zu hashed", i);
		knownhosts_entry_free(e);
	}
}

static const struct {
	const char *s;
	const char *list;
	int want;
} match_cases[] = {
	{ "host1", "host1", 1 },
	{ "host1", "HOST1", 1 },
	{ "HoSt1", "host1", 1 },
	{ "host1", "host", 0 },
	{ "host", "host1", 0 },
	{ "host1", "h*", 1 },
	{ "host1", "*1", 1 },
	{ "host1", "*", 1 },
	{ "", "*", 1 },
	{ "host1", "h?st?", 1 },
	{ "host1", "h?st", 0 },
	{ "a.foo.org", "*.foo.org,!bad.foo.org", 1 },
	{ "bad.foo.org", "*.foo.org,!bad.foo.org", -1 },
	{ "bad.foo.org", "!bad.foo.org,*.foo.org", -1 },
	{ "x.bar.org", "*.foo.org,!bad.foo.org", 0 },
	{ "x.bar.org", "!bad.foo.org", 0 },
	{ "10.0.0.1", "host1,10.0.0.1", 1 },
	{ "[host2]:2222", "[host2]:2222", 1 },
	{ "[host2]:2222", "host2", 0 },
	{ "[a.b]:2222", "[*.b]:2222", 1 },
	{ "[a.b]:22", "[*.b]:2222", 0 },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "*a*a*a*a*a*a*a*a*c",
	    0 },
	{ "abcabd", "*abd", 1 },
	{ "x", ",,x,", 1 },
	{ "x", "", 0 },
};

static void
test_match(void)
{
	size_t i;

	for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++)
		is_int(knownhosts_match_list(match_cases[i].s,
		    match_cases[i].list), match_cases[i].want,
		    "match '%s' against '%s'", match_cases[i].s,
		    match_cases[i].list);
	is_int(knownhosts_match_pattern("a,b", "a,b"), 1,
	    "a single pattern may contain a comma");
	is_int(knownhosts_match_pattern("x", NULL), 0, "NULL pattern");
}

/* Hashed names as OpenSSH's ssh-keygen -H wrote them. */
static const struct {
	const char *name;
	const char *hashed;
} hash_cases[] = {
	{ "host1",
	    "|1|5INDs5jcElVx/ihi5zP6xwsPnTw=|nYiTRp4+AkqautrmFAulGkCFrXE=" },
	{ "10.0.0.1",
	    "|1|DdtcNU24vW/ISV8SNAk1TTOVe8A=|cSo/w5EHpY/Hg7VV6NYgplOcStg=" },
	{ "[host2]:2222",
	    "|1|C4uCO0/zkjHmpFUBRCaWuk2ztt8=|EDJ7gK6GPX90Yo5l4LEXhvrfdQ8=" },
};

static void
test_hash(void)
{
	struct knownhosts_entry *e;
	enum knownhosts_line_kind kind;
	uint8_t salt[KNOWNHOSTS_SALT_LEN];
	struct buf *b, *salts;
	char line[512], saltb64[29], *s;
	size_t i;

	for (i = 0; i < sizeof(hash_cases) / sizeof(hash_cases[0]); i++) {
		snprintf(line, sizeof(line), "%s %s", hash_cases[i].hashed,
		    K1);
		if (knownhosts_parse_line(line, &e, &kind) != 0) {
			ok(0, "hashed line %zu parses", i);
			continue;
		}
		is_int(knownhosts_entry_matches(e, hash_cases[i].name), 1,
		    "hashed %s matches", hash_cases[i].name);
		is_int(knownhosts_entry_matches(e, "other"), 0,
		    "hashed %s does not match another name",
		    hash_cases[i].name);
		knownhosts_entry_free(e);
		/* Re-create the hash from the same salt. */
		b = buf_new();
		salts = buf_new();
		memcpy(saltb64, hash_cases[i].hashed + 3, 28);
		saltb64[28] = '\0';
		ok(b != NULL && salts != NULL &&
		    buf_put_b64_decoded(salts, saltb64) == 0 &&
		    buf_get(salts, salt, sizeof(salt)) == 0 &&
		    knownhosts_hash_name(hash_cases[i].name, salt, b) == 0,
		    "hash %s", hash_cases[i].name);
		s = buf_dup_string(b);
		ok(s != NULL && strcmp(s, hash_cases[i].hashed) == 0,
		    "hash of %s is %s", hash_cases[i].name, s ? s : "NULL");
		free(s);
		buf_free(b);
		buf_free(salts);
	}
	/* Hashed names are exact: no case folding. */
	snprintf(line, sizeof(line), "%s %s", hash_cases[0].hashed, K1);
	if (knownhosts_parse_line(line, &e, &kind) == 0) {
		is_int(knownhosts_entry_matches(e, "HOST1"), 0,
		    "hashed names are case-sensitive");
		knownhosts_entry_free(e);
	}
	/* Random salts differ; each hash matches its name. */
	b = buf_new();
	ok(knownhosts_hash_name("example.org", NULL, b) == 0 &&
	    buf_put_u8(b, ' ') == 0 && buf_putf(b, "%s", K1) == 0,
	    "hash with a random salt");
	s = buf_dup_string(b);
	ok(s != NULL && knownhosts_parse_line(s, &e, &kind) == 0 &&
	    knownhosts_entry_matches(e, "example.org") == 1,
	    "random-salt hash matches");
	if (e != NULL)
		knownhosts_entry_free(e);
	free(s);
	buf_free(b);
}

static void
test_lookup_name(void)
{
	char *n;

	ok(knownhosts_lookup_name("Host.Example", 22, NULL, &n) == 0 &&
	    strcmp(n, "host.example") == 0, "port 22: plain lowercased name");
	free(n);
	ok(knownhosts_lookup_name("h", 0, NULL, &n) == 0 &&
	    strcmp(n, "h") == 0, "port 0: plain name");
	free(n);
	ok(knownhosts_lookup_name("h", 2222, NULL, &n) == 0 &&
	    strcmp(n, "[h]:2222") == 0, "other port: [host]:port");
	free(n);
	ok(knownhosts_lookup_name("h", 2222, "Alias", &n) == 0 &&
	    strcmp(n, "alias") == 0, "HostKeyAlias replaces name and port");
	free(n);
	is_int(knownhosts_lookup_name("h", 65536, NULL, &n),
	    FERR_NUMBER_RANGE, "port out of range");
	is_int(knownhosts_lookup_name(NULL, 22, NULL, &n), FERR_ARGUMENT,
	    "no host");
	is_int(knownhosts_lookup_name("", 22, NULL, &n), FERR_ARGUMENT,
	    "empty host");
}

static void
check(const char *const *files, size_t n, const char *host,
    unsigned int port, const char *alias, const char *keyline,
    enum knownhosts_status want, const char *wantfile,
    unsigned long wantline, const char *what)
{
	struct knownhosts_result res;
	struct key *k = pub(keyline);
	int r;

	r = knownhosts_check(files, n, host, port, alias, k, &res);
	is_int(r, 0, "%s: check succeeds", what);
	is_int(res.status, want, "%s: status", what);
	if (wantfile != NULL) {
		ok(res.file != NULL && strcmp(res.file, wantfile) == 0,
		    "%s: file %s", what, res.file ? res.file : "NULL");
		is_int(res.line, wantline, "%s: line", what);
	} else {
		ok(res.file == NULL && res.line == 0, "%s: no file", what);
	}
	knownhosts_result_clear(&res);
	key_free(k);
}

static void
test_check(void)
{
	struct knownhosts_result res;
	const char *files[3];
	struct key *k;
	char *user, *global;

	user = strdup(path_in("known_hosts"));
	global = strdup(path_in("ssh_known_hosts"));
	write_file(user,
	    "# comment\n"
	    "host1,10.0.0.1 " K1 "\n"
	    "[host2]:2222 " K2 " some comment\n"
	    "@cert-authority *.example.com " K2 "\n"
	    "@revoked host3 " K1 "\n"
	    "*.foo.org,!bad.foo.org " K1 "\n"
	    "this line is garbage\n"
	    "\n"
	    "host1 " K2 "\n"
	    "host3 " K1 "\n"
	    "|1|C4uCO0/zkjHmpFUBRCaWuk2ztt8=|EDJ7gK6GPX90Yo5l4LEXhvrfdQ8= "
	    K1 "\n"
	    "x.example.com " K1);
	write_file(global,
	    "multi " K3 "\n"
	    "other " K1 "\n");
	files[0] = user;
	files[1] = path_in("missing");
	files[2] = global;

	check(files, 3, "host1", 22, NULL, K1, KNOWNHOSTS_MATCH, user, 2,
	    "plain match");
	check(files, 3, "HOST1", 0, NULL, K1, KNOWNHOSTS_MATCH, user, 2,
	    "host name is case-insensitive");
	check(files, 3, "host1", 22, NULL, K3, KNOWNHOSTS_MISMATCH, user, 2,
	    "same type, other key: mismatch");
	check(files, 3, "host1", 22, NULL, K2, KNOWNHOSTS_MATCH, user, 9,
	    "second key type for the same host");
	check(files, 3, "10.0.0.1", 22, NULL, K1, KNOWNHOSTS_MATCH, user, 2,
	    "address in a comma list");
	check(files, 3, "host2", 2222, NULL, K2, KNOWNHOSTS_MATCH, user, 3,
	    "[host]:port entry");
	check(files, 3, "host2", 22, NULL, K2, KNOWNHOSTS_UNKNOWN, NULL, 0,
	    "port 22 does not match [host2]:2222");
	check(files, 3, "host2", 2222, NULL, K1, KNOWNHOSTS_MATCH, user, 11,
	    "hashed [host]:port entry");
	check(files, 3, "host3", 22, NULL, K1, KNOWNHOSTS_REVOKED, user, 5,
	    "revoked wins over a matching entry");
	check(files, 3, "a.foo.org", 22, NULL, K1, KNOWNHOSTS_MATCH, user, 6,
	    "wildcard");
	check(files, 3, "bad.foo.org", 22, NULL, K1, KNOWNHOSTS_UNKNOWN,
	    NULL, 0, "negated pattern");
	check(files, 3, "x.example.com", 22, NULL, K2, KNOWNHOSTS_UNKNOWN,
	    NULL, 0, "@cert-authority is no plain key");
	check(files, 3, "multi", 22, NULL, K3, KNOWNHOSTS_MATCH, global, 1,
	    "second file after a missing one");
	check(files, 3, "unknown", 22, NULL, K1, KNOWNHOSTS_UNKNOWN, NULL, 0,
	    "unknown host");
	check(files, 3, "whatever", 2222, "host1", K1, KNOWNHOSTS_MATCH, user,
	    2, "HostKeyAlias");
	check(files, 3, "whatever", 2222, "host1", K3, KNOWNHOSTS_MISMATCH,
	    user, 2, "HostKeyAlias mismatch");
	check(files, 0, "host1", 22, NULL, K1, KNOWNHOSTS_UNKNOWN, NULL, 0,
	    "no files");

	/* Fingerprints and other types for the caller's warnings. */
	k = pub(K3);
	ok(knownhosts_check(files, 3, "host1", 22, NULL, k, &res) == 0 &&
	    res.status == KNOWNHOSTS_MISMATCH && res.known_fp != NULL &&
	    strcmp(res.known_fp, K1_FP) == 0 && res.offered_fp != NULL &&
	    strncmp(res.offered_fp, "SHA256:", 7) == 0 &&
	    strcmp(res.offered_fp, K1_FP) != 0,
	    "mismatch reports both fingerprints");
	knownhosts_result_clear(&res);
	key_free(k);
	k = pub(K2);
	ok(knownhosts_check(files, 3, "other", 22, NULL, k, &res) == 0 &&
	    res.status == KNOWNHOSTS_UNKNOWN && res.other_types == 1 &&
	    res.known_fp == NULL,
	    "unknown type reports other known types");
	knownhosts_result_clear(&res);

	/* Errors fail closed. */
	files[1] = dir;		/* a directory cannot be read */
	ok(knownhosts_check(files, 3, "host1", 22, NULL, k, &res) < 0 &&
	    res.status == KNOWNHOSTS_ERROR, "unreadable file: error");
	knownhosts_result_clear(&res);
	ok(knownhosts_check(files, 1, NULL, 22, NULL, k, &res) < 0 &&
	    res.status == KNOWNHOSTS_ERROR, "no host name: error");
	ok(knownhosts_check(files, 1, "h", 22, NULL, NULL, &res) < 0 &&
	    res.status == KNOWNHOSTS_ERROR, "no key: error");
	key_free(k);
	free(user);
	free(global);
}

static int
count_cb(const char *raw, unsigned long lineno,
    enum knownhosts_line_kind kind, const struct knownhosts_entry *ent,
    void *ctx)
{
	int *counts = ctx;

	(void)raw;
	(void)lineno;
	(void)ent;
	counts[kind]++;
	return 0;
}

static void
test_foreach(void)
{
	static const char text[] = "a " K1 "\n# c\nbad\n\nb " K2 "\nno\0nul "
	    K1 "\nlast " K3;
	int counts[3] = { 0, 0, 0 };
	struct buf *b = buf_from(text, sizeof(text) - 1);

	ok(knownhosts_foreach_buf(b, count_cb, counts) == 0, "foreach");
	is_int(counts[KNOWNHOSTS_LINE_ENTRY], 3, "three entries");
	is_int(counts[KNOWNHOSTS_LINE_SKIP], 2, "two skipped lines");
	is_int(counts[KNOWNHOSTS_LINE_INVALID], 2,
	    "two invalid lines (one with a NUL)");
	buf_free(b);
	is_int(knownhosts_foreach(path_in("nope"), count_cb, counts),
	    FERR_SYSTEM, "missing file");
}

static void
test_add(void)
{
	const char *files[1];
	struct knownhosts_result res;
	struct key *k1 = pub(K1), *k2 = pub(K2 " with comment");
	struct buf *b = NULL;
	struct stat st;
	char *path = strdup(path_in("added")), *s = NULL;

	files[0] = path;
	unlink(path);
	is_int(knownhosts_add(path, "new.host", k1, 0), 0, "add creates");
	ok(knownhosts_check(files, 1, "new.host", 22, NULL, k1, &res) == 0 &&
	    res.status == KNOWNHOSTS_MATCH && res.line == 1,
	    "added entry matches");
	knownhosts_result_clear(&res);
	ok(key_read_file(path, 0, &b) == 0 &&
	    (s = buf_dup_string(b)) != NULL &&
	    strcmp(s, "new.host " K1 "\n") == 0, "plain line, no comment");
	free(s);
	buf_free(b);
	/* A file without a final newline and an unusual mode. */
	write_file(path, "# no newline");
	chmod(path, 0600);
	is_int(knownhosts_add(path, "[h]:2222", k2, 1), 0, "add hashed");
	ok(key_read_file(path, 0, &b) == 0 &&
	    (s = buf_dup_string(b)) != NULL &&
	    strncmp(s, "# no newline\n|1|", 16) == 0 &&
	    strstr(s, "with comment") == NULL &&
	    s[strlen(s) - 1] == '\n', "hashed line after a newline");
	free(s);
	buf_free(b);
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "mode kept");
	ok(knownhosts_check(files, 1, "h", 2222, NULL, k2, &res) == 0 &&
	    res.status == KNOWNHOSTS_MATCH && res.line == 2,
	    "hashed entry matches");
	knownhosts_result_clear(&res);
	is_int(knownhosts_add(path, "two words", k1, 0), FERR_ARGUMENT,
	    "a name with a space is refused");
	is_int(knownhosts_add(dir, "h", k1, 0), FERR_SYSTEM,
	    "adding to a directory fails");
	unlink(path);
	free(path);
	key_free(k1);
	key_free(k2);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_parse();
	test_match();
	test_hash();
	test_lookup_name();
	test_check();
	test_foreach();
	test_add();
	unlink(path_in("known_hosts"));
	unlink(path_in("ssh_known_hosts"));
	rmdir(dir);
	return tap_done();
}
