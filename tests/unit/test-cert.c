/*
 * OpenSSH certificates: certificates made by ssh-keygen (in
 * tests/unit/keys/cert-*.pub) parse and verify, with every field; the
 * acceptance check refuses expired, not yet valid, wrong-principal,
 * wrong-type, unknown-CA, unknown-critical-option and wrong-source
 * certificates; tampered blobs fail; key_cert_sign makes certificates of
 * every key type with every CA type; authorized_keys cert-authority
 * lines and known_hosts @cert-authority entries decide on certificates.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/authkeys.h"
#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key-cert.h"
#include "ferry/key.h"
#include "ferry/knownhosts.h"
#include "tap.h"

#define T2020	1577836800ULL	/* 2020-01-01T00:00:00Z */
#define T2021	1609459200ULL
#define T2090	3786912000ULL
#define T2099END 4102358400ULL	/* 2099-12-31T00:00:00Z */
#define NOW	1700000000ULL

static char *
fixture_path(const char *name)
{
	static char path[1024];
	const char *top = getenv("top_srcdir");

	snprintf(path, sizeof(path), "%s/tests/unit/keys/%s",
	    top != NULL ? top : ".", name);
	return path;
}

static char *
fixture_line(const char *name)
{
	struct buf *b = NULL;
	char *s, *nl;

	if (key_read_file(fixture_path(name), 0, &b) != 0 ||
	    (s = buf_dup_string(b)) == NULL) {
		fprintf(stderr, "cannot read %s\n", fixture_path(name));
		exit(1);
	}
	buf_free(b);
	if ((nl = strchr(s, '\n')) != NULL)
		*nl = '\0';
	return s;
}

static struct key *
fixture_key(const char *name)
{
	struct key *k = NULL;
	char *s = fixture_line(name);

	if (key_parse_public_line(s, &k) != 0)
		abort();
	free(s);
	return k;
}

static struct key_cert *
fixture_cert(const char *name)
{
	struct key_cert *c = NULL;
	char *s = fixture_line(name);
	int r;

	if ((r = key_cert_parse_line(s, &c)) != 0) {
		fprintf(stderr, "%s: %s\n", name, err_str(r));
		abort();
	}
	free(s);
	return c;
}

static const struct {
	const char *cert;
	const char *key;
	const char *ca;
	const char *sig_alg;
	const char *type_name;
} parse_cases[] = {
	{ "cert-ed25519-user.pub", "ed25519.pub", "cert-ca.pub",
	    "ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com" },
	{ "cert-ecdsa256-user.pub", "ecdsa256.pub", "cert-rsa-ca.pub",
	    "rsa-sha2-256", "ecdsa-sha2-nistp256-cert-v01@openssh.com" },
	{ "cert-ecdsa384-user.pub", "ecdsa384.pub", "cert-rsa-ca.pub",
	    "rsa-sha2-512", "ecdsa-sha2-nistp384-cert-v01@openssh.com" },
	{ "cert-ecdsa521-user.pub", "ecdsa521.pub", "cert-ca.pub",
	    "ssh-ed25519", "ecdsa-sha2-nistp521-cert-v01@openssh.com" },
	{ "cert-rsa-user.pub", "rsa.pub", "cert-ca.pub", "ssh-ed25519",
	    "ssh-rsa-cert-v01@openssh.com" },
};

static void
test_parse_openssh(void)
{
	struct key_cert *c, *c2;
	struct key *k, *ca;
	struct buf *b;
	char *s;
	size_t i;


	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		c = fixture_cert(parse_cases[i].cert);
		k = fixture_key(parse_cases[i].key);
		ca = fixture_key(parse_cases[i].ca);
		ok(strcmp(c->type_name, parse_cases[i].type_name) == 0,
		    "%s: type %s", parse_cases[i].cert, c->type_name);
		ok(key_equal_public(c->key, k), "%s: certified key",
		    parse_cases[i].cert);
		ok(key_equal_public(c->ca, ca), "%s: CA key",
		    parse_cases[i].cert);
		ok(strcmp(c->sig_alg, parse_cases[i].sig_alg) == 0,
		    "%s: signed with %s", parse_cases[i].cert, c->sig_alg);
		is_int(c->type, KEY_CERT_USER, "%s: user certificate",
		    parse_cases[i].cert);
		ok(strcmp(c->key_id, parse_cases[i].cert) == 0,
		    "%s: key id", parse_cases[i].cert);
		ok(c->valid_after == T2020 && c->valid_before == T2099END,
		    "%s: validity", parse_cases[i].cert);
		ok(c->nprincipals >= 1 && strcmp(c->principals[0],
		    "alice") == 0, "%s: principal alice", parse_cases[i].cert);
		is_int(key_cert_has_extension(c, "permit-pty"), 1,
		    "%s: permit-pty", parse_cases[i].cert);
		is_int(c->ncritical, 0, "%s: no critical options",
		    parse_cases[i].cert);
		/* Formatting gives back the same line. */
		b = buf_new();
		s = NULL;
		c2 = NULL;
		ok(key_cert_format_line(c, b) == 0 &&
		    (s = buf_dup_string(b)) != NULL &&
		    key_cert_parse_line(s, &c2) == 0 &&
		    c2->bloblen == c->bloblen &&
		    memcmp(c2->blob, c->blob, c->bloblen) == 0 &&
		    strcmp(c2->comment, c->comment) == 0,
		    "%s: formats back", parse_cases[i].cert);
		free(s);
		key_cert_free(c2);
		buf_free(b);
		key_cert_free(c);
		key_free(k);
		key_free(ca);
	}
	c = fixture_cert("cert-ed25519-user.pub");
	ok(c->serial == 5 && c->nprincipals == 2 &&
	    strcmp(c->principals[1], "bob") == 0 && c->nextensions == 5,
	    "serial 5, principals alice and bob, five extensions");
	key_cert_free(c);
}

static const struct {
	const char *cert;
	enum key_cert_type want;
	const char *name;
	uint64_t now;
	int rsa_ca;		/* check against the RSA CA instead */
	const char *addr;
	const char *reason;	/* NULL: accepted */
} check_cases[] = {
	{ "cert-ed25519-user.pub", KEY_CERT_USER, "alice", NOW, 0, NULL,
	    NULL },
	{ "cert-ed25519-user.pub", KEY_CERT_USER, "bob", NOW, 0, NULL, NULL },
	{ "cert-ed25519-user.pub", KEY_CERT_USER, NULL, NOW, 0, NULL, NULL },
	{ "cert-ed25519-user.pub", KEY_CERT_USER, "carol", NOW, 0, NULL,
	    "name is not a listed principal" },
	{ "cert-ed25519-user.pub", KEY_CERT_USER, "Alice", NOW, 0, NULL,
	    "name is not a listed principal" },
	{ "cert-ed25519-user.pub", KEY_CERT_HOST, "alice", NOW, 0, NULL,
	    "not a host certificate" },
	{ "cert-ed25519-user.pub", KEY_CERT_USER, "alice", NOW, 1, NULL,
	    "signed by an unrecognized authority" },
	{ "cert-ed25519-user.pub", KEY_CERT_USER, "alice", T2020 - 1, 0, NULL,
	    "certificate not yet valid" },
	{ "cert-ed25519-user.pub", KEY_CERT_USER, "alice", T2020, 0, NULL,
	    NULL },
	{ "cert-ed25519-user.pub", KEY_CERT_USER, "alice", T2099END - 1, 0,
	    NULL, NULL },
	{ "cert-ed25519-user.pub", KEY_CERT_USER, "alice", T2099END, 0, NULL,
	    "certificate expired" },
	{ "cert-ecdsa256-user.pub", KEY_CERT_USER, "alice", NOW, 1, NULL,
	    NULL },
	{ "cert-ecdsa256-user.pub", KEY_CERT_USER, "alice", NOW, 0, NULL,
	    "signed by an unrecognized authority" },
	{ "cert-expired.pub", KEY_CERT_USER, "alice", NOW, 0, NULL,
	    "certificate expired" },
	{ "cert-expired.pub", KEY_CERT_USER, "alice", T2021 - 1, 0, NULL,
	    NULL },
	{ "cert-future.pub", KEY_CERT_USER, "alice", NOW, 0, NULL,
	    "certificate not yet valid" },
	{ "cert-future.pub", KEY_CERT_USER, "alice", T2090, 0, NULL, NULL },
	{ "cert-noprinc.pub", KEY_CERT_USER, "alice", NOW, 0, NULL,
	    "certificate lacks principal list" },
	{ "cert-noprinc.pub", KEY_CERT_USER, NULL, NOW, 0, NULL, NULL },
	{ "cert-host.pub", KEY_CERT_HOST, "a.example.com", NOW, 0, NULL,
	    NULL },
	{ "cert-host.pub", KEY_CERT_HOST, "host1", NOW, 0, NULL, NULL },
	{ "cert-host.pub", KEY_CERT_HOST, "host2", NOW, 0, NULL,
	    "name is not a listed principal" },
	{ "cert-host.pub", KEY_CERT_HOST, "example.com", NOW, 0, NULL,
	    "name is not a listed principal" },
	{ "cert-host.pub", KEY_CERT_USER, "host1", NOW, 0, NULL,
	    "not a user certificate" },
	{ "cert-opts.pub", KEY_CERT_USER, "alice", NOW, 0, "192.0.2.9",
	    NULL },
	{ "cert-opts.pub", KEY_CERT_USER, "alice", NOW, 0, "2001:db8::5",
	    NULL },
	{ "cert-opts.pub", KEY_CERT_USER, "alice", NOW, 0, "198.51.100.1",
	    "source address not permitted" },
	{ "cert-opts.pub", KEY_CERT_USER, "alice", NOW, 0, NULL,
	    "source address not permitted" },
	{ "cert-critical.pub", KEY_CERT_USER, "alice", NOW, 0, NULL,
	    "unsupported critical option" },
	{ "cert-verify.pub", KEY_CERT_USER, "alice", NOW, 0, NULL,
	    "verify-required needs a security key" },
};

static void
test_check(void)
{
	const struct key *cas[1];
	struct key *ca = fixture_key("cert-ca.pub");
	struct key *rsaca = fixture_key("cert-rsa-ca.pub");
	struct key_cert *c;
	const char *why;
	char *cmd;
	size_t i;
	int r;

	for (i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
		c = fixture_cert(check_cases[i].cert);
		cas[0] = check_cases[i].rsa_ca ? rsaca : ca;
		r = key_cert_check(c, check_cases[i].want, check_cases[i].name,
		    check_cases[i].now, cas, 1, check_cases[i].addr, &why);
		if (check_cases[i].reason == NULL)
			ok(r == 0 && why == NULL, "check %zu (%s) accepted%s%s",
			    i, check_cases[i].cert, why ? ": " : "",
			    why ? why : "");
		else
			ok(r == FERR_CERT_INVALID && why != NULL &&
			    strcmp(why, check_cases[i].reason) == 0,
			    "check %zu (%s): %s", i, check_cases[i].cert,
			    why ? why : "accepted");
		key_cert_free(c);
	}
	c = fixture_cert("cert-opts.pub");
	ok(key_cert_option_string(c, "force-command", &cmd) == 0 &&
	    cmd != NULL && strcmp(cmd, "/usr/lib/sftp") == 0,
	    "force-command value");
	free(cmd);
	ok(key_cert_option_string(c, "nothing", &cmd) == 0 && cmd == NULL,
	    "an absent option");
	ok(!key_cert_has_extension(c, "permit-pty") &&
	    !key_cert_has_extension(c, "permit-port-forwarding") &&
	    key_cert_has_extension(c, "permit-user-rc"),
	    "extensions as -O no-pty -O no-port-forwarding left them");
	ok(key_cert_check(c, KEY_CERT_USER, "alice", NOW, NULL, 0,
	    "192.0.2.1", NULL) == 0, "no CA list: the caller matched it");
	key_cert_free(c);
	key_free(ca);
	key_free(rsaca);
}

static void
test_tamper(void)
{
	struct key_cert *c = fixture_cert("cert-ed25519-user.pub"), *c2;
	uint8_t *blob = malloc(c->bloblen);
	size_t i, n = c->bloblen;
	int r, bad = 0, bad_trunc = 0;

	memcpy(blob, c->blob, n);
	/* Flip one bit of every byte in turn: nothing may verify. */
	for (i = 0; i < n; i++) {
		blob[i] ^= 0x01;
		if ((r = key_cert_from_blob(blob, n, &c2)) == 0) {
			bad++;
			key_cert_free(c2);
		}
		blob[i] ^= 0x01;
	}
	is_int(bad, 0, "no single-bit change of the blob verifies");
	for (i = 0; i < n; i++) {
		if (key_cert_from_blob(blob, i, &c2) == 0) {
			bad_trunc++;
			key_cert_free(c2);
		}
	}
	is_int(bad_trunc, 0, "no truncation parses");
	/* The key id byte changes: the signature no longer matches. */
	ok(key_cert_from_blob(c->blob, n, &c2) == 0, "the original parses");
	key_cert_free(c2);
	free(blob);
	key_cert_free(c);
	ok(key_cert_parse_line("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEmqSKi2"
	    "hbEMmTRm7ygxkcvIBhFdpGkw4CDRvRMdwhcW", &c2) ==
	    FERR_KEY_TYPE_UNKNOWN && c2 == NULL, "a plain key is no certificate");
}

static void
test_sign(void)
{
	static const struct {
		enum key_type type;
		unsigned int bits;
	} types[] = {
		{ KEY_ED25519, 0 }, { KEY_ECDSA_P256, 0 }, { KEY_ECDSA_P384, 0 },
		{ KEY_ECDSA_P521, 0 }, { KEY_RSA, 2048 },
	};
	static const char *const principals[] = { "alice", "bob" };
	static const char *const exts[] = { "permit-pty", "custom@ex.com",
	    "permit-X11-forwarding" };
	static const char *const dup[] = { "permit-pty", "permit-pty" };
	struct key *keys[5], *pub;
	struct key_cert_params p;
	struct key_cert *c;
	const struct key *cas[1];
	const char *why;
	size_t i, j;
	char *cmd;

	for (i = 0; i < 5; i++)
		if (key_generate(types[i].type, types[i].bits, &keys[i]) != 0 ||
		    key_set_comment(keys[i], "k") != 0)
			abort();
	memset(&p, 0, sizeof(p));
	p.type = KEY_CERT_USER;
	p.key_id = "made by ferry";
	p.principals = principals;
	p.nprincipals = 2;
	p.serial = 77;
	p.valid_after = T2020;
	p.valid_before = T2099END;
	for (i = 0; i < 5; i++) {
		for (j = 0; j < 5; j++) {
			if (key_cert_sign(keys[i], keys[j], &p, &c) != 0) {
				ok(0, "sign type %zu with CA type %zu", i, j);
				continue;
			}
			cas[0] = keys[j];
			ok(key_equal_public(c->key, keys[i]) &&
			    key_equal_public(c->ca, keys[j]) &&
			    c->serial == 77 && c->nprincipals == 2 &&
			    strcmp(c->key_id, "made by ferry") == 0 &&
			    c->nextensions == 5 &&
			    strcmp(c->extensions[0].name,
			    "permit-X11-forwarding") == 0 &&
			    strcmp(c->comment, "k") == 0 &&
			    strcmp(c->sig_alg, key_sig_alg_default(keys[j]))
			    == 0 &&
			    key_cert_check(c, KEY_CERT_USER, "bob", NOW, cas, 1,
			    NULL, NULL) == 0,
			    "sign %s with a %s CA", key_type_name(types[i].type),
			    key_type_name(types[j].type));
			key_cert_free(c);
		}
	}
	/* An RSA CA with rsa-sha2-256. */
	p.sig_alg = "rsa-sha2-256";
	ok(key_cert_sign(keys[0], keys[4], &p, &c) == 0 &&
	    strcmp(c->sig_alg, "rsa-sha2-256") == 0, "RSA CA, rsa-sha2-256");
	key_cert_free(c);
	p.sig_alg = "ssh-rsa";
	ok(key_cert_sign(keys[0], keys[4], &p, &c) != 0 && c == NULL,
	    "no SHA-1 CA signatures");
	p.sig_alg = NULL;

	/* Host certificates: no extensions; options and extensions sorted. */
	p.type = KEY_CERT_HOST;
	ok(key_cert_sign(keys[1], keys[0], &p, &c) == 0 &&
	    c->type == KEY_CERT_HOST && c->nextensions == 0,
	    "host certificate without extensions");
	key_cert_free(c);
	p.type = KEY_CERT_USER;
	p.extensions = exts;
	p.nextensions = 3;
	p.force_command = "internal-sftp";
	p.source_address = "10.0.0.0/8";
	ok(key_cert_sign(keys[0], keys[0], &p, &c) == 0 &&
	    c->nextensions == 3 &&
	    strcmp(c->extensions[0].name, "custom@ex.com") == 0 &&
	    strcmp(c->extensions[1].name, "permit-X11-forwarding") == 0 &&
	    strcmp(c->extensions[2].name, "permit-pty") == 0 &&
	    c->ncritical == 2 &&
	    strcmp(c->critical[0].name, "force-command") == 0 &&
	    strcmp(c->critical[1].name, "source-address") == 0,
	    "extensions and critical options in lexical order");
	ok(c != NULL && key_cert_option_string(c, "force-command", &cmd) == 0 &&
	    cmd != NULL && strcmp(cmd, "internal-sftp") == 0,
	    "force-command round trip");
	free(cmd);
	cas[0] = keys[0];
	ok(c != NULL && key_cert_check(c, KEY_CERT_USER, "alice", NOW, cas,
	    1, "10.1.2.3", &why) == 0 && key_cert_check(c, KEY_CERT_USER,
	    "alice", NOW, cas, 1, "11.1.2.3", &why) == FERR_CERT_INVALID,
	    "source-address enforced");
	key_cert_free(c);
	p.extensions = dup;
	p.nextensions = 2;
	is_int(key_cert_sign(keys[0], keys[0], &p, &c), FERR_ARGUMENT,
	    "duplicate extensions refused");
	p.extensions = NULL;
	p.nextensions = 0;
	p.no_extensions = 1;
	ok(key_cert_sign(keys[0], keys[0], &p, &c) == 0 &&
	    c->nextensions == 0, "no extensions at all");
	key_cert_free(c);
	p.no_extensions = 0;
	if (key_demote(keys[0], &pub) != 0)
		abort();
	is_int(key_cert_sign(keys[1], pub, &p, &c), FERR_ARGUMENT,
	    "a CA without its private key cannot sign");
	key_free(pub);
	p.key_id = NULL;
	is_int(key_cert_sign(keys[1], keys[0], &p, &c), FERR_ARGUMENT,
	    "a key id is required");
	for (i = 0; i < 5; i++)
		key_free(keys[i]);
}

static void
write_file(const char *path, const char *a, const char *b, const char *c)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		abort();
	fprintf(f, "%s%s%s", a, b, c);
	fclose(f);
}

static void
test_authkeys(void)
{
	static const struct {
		const char *opts;	/* options before the CA key */
		const char *cert;
		const char *user;
		const char *addr;
		int allowed;
		const char *want;	/* reason, or "P" + flags "pfaxu" */
	} cases[] = {
		{ "cert-authority", "cert-ed25519-user.pub", "alice",
		    "192.0.2.1", 1, "PFAXU" },
		{ "cert-authority", "cert-ed25519-user.pub", "carol",
		    "192.0.2.1", 0, "name is not a listed principal" },
		{ "cert-authority,principals=\"bob,zed\"",
		    "cert-ed25519-user.pub", "carol", "192.0.2.1", 1,
		    "PFAXU" },
		{ "cert-authority,principals=\"zed\"",
		    "cert-ed25519-user.pub", "alice", "192.0.2.1", 0,
		    "no certificate principal in principals=" },
		{ "cert-authority,from=\"10.0.0.0/8\"",
		    "cert-ed25519-user.pub", "alice", "192.0.2.1", 0,
		    "source address not allowed (from)" },
		{ "cert-authority,no-pty", "cert-ed25519-user.pub", "alice",
		    "192.0.2.1", 1, "pFAXU" },
		{ "cert-authority", "cert-opts.pub", "alice", "192.0.2.1", 1,
		    "pfAXU /usr/lib/sftp" },
		{ "cert-authority", "cert-opts.pub", "alice", "203.0.113.1", 0,
		    "source address not permitted" },
		{ "cert-authority,command=\"/usr/lib/sftp\"", "cert-opts.pub",
		    "alice", "192.0.2.1", 1, "pfAXU /usr/lib/sftp" },
		{ "cert-authority,command=\"/bin/sh\"", "cert-opts.pub",
		    "alice", "192.0.2.1", 0,
		    "certificate and command= force different commands" },
		{ "cert-authority", "cert-expired.pub", "alice", "192.0.2.1", 0,
		    "certificate expired" },
		{ "no-pty", "cert-ed25519-user.pub", "alice", "192.0.2.1", 0,
		    "no matching key" },
		{ "cert-authority", "cert-ecdsa256-user.pub", "alice",
		    "192.0.2.1", 0, "no matching key" },
	};
	char dir[] = "/tmp/ferry-cert-XXXXXX", path[256], flags[320];
	const char *files[1];
	struct authkeys_decision d;
	struct authkeys_client cl;
	struct key_cert *c;
	char *ca = fixture_line("cert-ca.pub");
	size_t i;
	int r;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/authorized_keys", dir);
	files[0] = path;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(path, cases[i].opts, " ", ca);
		c = fixture_cert(cases[i].cert);
		cl.addr = cases[i].addr;
		cl.host = NULL;
		cl.now = (time_t)NOW;
		r = authkeys_check_cert(files, 1, c, cases[i].user, &cl, &d);
		if (d.allowed && d.opts != NULL)
			snprintf(flags, sizeof(flags), "%c%c%c%c%c%s%s",
			    d.opts->permit_pty ? 'P' : 'p',
			    d.opts->permit_port_forwarding ? 'F' : 'f',
			    d.opts->permit_agent_forwarding ? 'A' : 'a',
			    d.opts->permit_x11_forwarding ? 'X' : 'x',
			    d.opts->permit_user_rc ? 'U' : 'u',
			    d.opts->force_command ? " " : "",
			    d.opts->force_command ? d.opts->force_command :
			    "");
		else
			snprintf(flags, sizeof(flags), "%s", d.reason);
		ok(r == 0 && d.allowed == cases[i].allowed &&
		    strcmp(flags, cases[i].want) == 0,
		    "cert-authority case %zu: %s", i, flags);
		authkeys_decision_clear(&d);
		key_cert_free(c);
	}
	/* A plain key never matches a cert-authority line. */
	write_file(path, "cert-authority ", ca, "\n");
	{
		struct key *k = fixture_key("cert-ca.pub");

		cl.addr = "192.0.2.1";
		ok(authkeys_check(files, 1, k, &cl, &d) == 0 && !d.allowed,
		    "the CA key itself does not log in");
		authkeys_decision_clear(&d);
		key_free(k);
	}
	ok(authkeys_check_cert(files, 1, NULL, "alice", &cl, &d) ==
	    FERR_ARGUMENT && !d.allowed, "no certificate: error");
	unlink(path);
	rmdir(dir);
	free(ca);
}

static void
test_knownhosts(void)
{
	static const struct {
		const char *text;	/* entries, %s the CA line tail */
		const char *host;
		unsigned int port;
		const char *alias;
		enum knownhosts_status want;
		const char *reason;
	} cases[] = {
		{ "@cert-authority *.example.com ", "a.example.com", 22, NULL,
		    KNOWNHOSTS_MATCH, NULL },
		{ "@cert-authority *.example.com ", "host1", 22, NULL,
		    KNOWNHOSTS_UNKNOWN, NULL },
		{ "@cert-authority host2 ", "host2", 22, NULL,
		    KNOWNHOSTS_CERT_INVALID, "name is not a listed principal" },
		{ "@cert-authority [host1]:2222 ", "host1", 2222, NULL,
		    KNOWNHOSTS_MATCH, NULL },
		{ "@cert-authority [host1]:2222 ", "host1", 22, NULL,
		    KNOWNHOSTS_UNKNOWN, NULL },
		{ "@cert-authority alias ", "x", 22, "alias",
		    KNOWNHOSTS_CERT_INVALID, "name is not a listed principal" },
		{ "@cert-authority alias ", "x", 22, "host1",
		    KNOWNHOSTS_UNKNOWN, NULL },
		{ "@revoked * ", "host1", 22, NULL, KNOWNHOSTS_REVOKED, NULL },
		{ "host1 ", "host1", 22, NULL, KNOWNHOSTS_UNKNOWN, NULL },
	};
	char dir[] = "/tmp/ferry-certkh-XXXXXX", path[256];
	struct knownhosts_result res;
	const char *files[1];
	struct key_cert *c = fixture_cert("cert-host.pub");
	char *ca = fixture_line("cert-ca.pub");
	size_t i;
	int r;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/known_hosts", dir);
	files[0] = path;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(path, cases[i].text, ca, "\n");
		r = knownhosts_check_cert(files, 1, cases[i].host,
		    cases[i].port, cases[i].alias, c, NOW, &res);
		ok(r == 0 && res.status == cases[i].want &&
		    (cases[i].reason == NULL ? res.reason == NULL :
		    res.reason != NULL &&
		    strcmp(res.reason, cases[i].reason) == 0),
		    "@cert-authority case %zu: status %d %s", i, res.status,
		    res.reason ? res.reason : "");
		if (cases[i].want == KNOWNHOSTS_MATCH)
			ok(res.line == 1 && res.known_fp != NULL,
			    "case %zu: the CA entry is reported", i);
		knownhosts_result_clear(&res);
	}
	/* Expired at another moment. */
	write_file(path, "@cert-authority *.example.com ", ca, "\n");
	ok(knownhosts_check_cert(files, 1, "a.example.com", 22, NULL, c,
	    0, &res) == 0, "check at time 0");
	is_int(res.status, KNOWNHOSTS_MATCH, "valid forever: also at 0");
	knownhosts_result_clear(&res);
	key_cert_free(c);
	c = fixture_cert("cert-ed25519-user.pub");
	ok(knownhosts_check_cert(files, 1, "a.example.com", 22, NULL, c,
	    NOW, &res) == 0 && res.status == KNOWNHOSTS_CERT_INVALID &&
	    strcmp(res.reason, "not a host certificate") == 0,
	    "a user certificate is no host certificate");
	knownhosts_result_clear(&res);
	key_cert_free(c);
	ok(knownhosts_check_cert(files, 1, "h", 22, NULL, NULL, NOW,
	    &res) == FERR_ARGUMENT && res.status == KNOWNHOSTS_ERROR,
	    "no certificate: error");
	unlink(path);
	rmdir(dir);
	free(ca);
}

int
main(void)
{
	test_parse_openssh();
	test_check();
	test_tamper();
	test_sign();
	test_authkeys();
	test_knownhosts();
	return tap_done();
}
