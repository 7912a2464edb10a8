/*
 * authorized_keys: a table of lines, good and malformed, each with the
 * options it must parse to (as a compact summary) and the decision for
 * an offered key from a given client at a given time; then from=""
 * matching, several files, logging of malformed lines and errors.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ferry/authkeys.h"
#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/key.h"
#include "ferry/log.h"
#include "tap.h"

#define K1 "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEmqSKi2hbEMmTRm7ygxkcvIB" \
	"hFdpGkw4CDRvRMdwhcW"
#define K2 "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzd" \
	"HAyNTYAAABBBEJLs7Kuk6czbDdGMjwAZQOoN2aIkN1WcdYtUKvEAErFCz2N/Wwjunx" \
	"NqNlWQmpF2ItNaDAW7uUKUIcqTI+c4nI="

/* 2030-01-01 00:00:00 UTC */
#define T2030	1893456000LL
#define NOW	1700000000LL

#define ALL	"PFAXU"		/* everything permitted */
#define NONE	"pfaxu"		/* restrict */

static const struct {
	const char *line;
	int r;			/* parse result; 1: any error */
	const char *want;	/* summary, or the error text */
	const char *addr;	/* client */
	const char *host;
	long long now;
	int allowed;		/* decision for K1 */
	const char *reason;	/* part of the refusal reason */
} cases[] = {
	/* Plain keys and the permission flags. */
	{ K1, 0, ALL, "192.0.2.1", NULL, NOW, 1, NULL },
	{ "  " K1 " a comment with spaces", 0, ALL, "192.0.2.1", NULL, NOW, 1,
	    NULL },
	{ K2, 0, ALL, "192.0.2.1", NULL, NOW, 0, "no matching key" },
	{ "restrict " K1, 0, NONE " restrict", "192.0.2.1", NULL, NOW, 1,
	    NULL },
	{ "restrict,pty,port-forwarding " K1, 0, "PFaxu restrict",
	    "192.0.2.1", NULL, NOW, 1, NULL },
	{ "restrict,agent-forwarding,X11-forwarding,user-rc " K1, 0,
	    "pfAXU restrict", "192.0.2.1", NULL, NOW, 1, NULL },
	{ "pty,restrict " K1, 0, NONE " restrict", "192.0.2.1", NULL, NOW, 1,
	    NULL },
	{ "no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding,"
	    "no-user-rc " K1, 0, NONE, "192.0.2.1", NULL, NOW, 1, NULL },
	{ "NO-PTY,No-X11-Forwarding\t" K1, 0, "pFAxU", "192.0.2.1", NULL,
	    NOW, 1, NULL },
	{ "no-touch-required,verify-required " K1, 0,
	    ALL " no-touch verify", "192.0.2.1", NULL, NOW, 1, NULL },
	/* command= */
	{ "command=\"echo \\\"hi\\\" there\" " K1, 0,
	    ALL " cmd=echo \"hi\" there", "192.0.2.1", NULL, NOW, 1, NULL },
	{ "command=\"a\\b\" " K1, 0, ALL " cmd=a\\b", "192.0.2.1", NULL, NOW,
	    1, NULL },
	{ "command=\"a, b c\",no-pty " K1, 0, "pFAXU cmd=a, b c", "192.0.2.1",
	    NULL, NOW, 1, NULL },
	{ "command=\"\" " K1, 0, ALL " cmd=", "192.0.2.1", NULL, NOW, 1,
	    NULL },
	{ "command=\"a\",command=\"b\" " K1, 1, "multiple command clauses",
	    NULL, NULL, 0, 0, NULL },
	{ "command=unquoted " K1, 1, "option needs a quoted value", NULL,
	    NULL, 0, 0, NULL },
	{ "command=\"unterminated " K1, 1, "unterminated quote", NULL, NULL,
	    0, 0, NULL },
	/* environment= */
	{ "environment=\"A=1\",environment=\"B=two words\",environment=\"A=2\" "
	    K1, 0, ALL " env=A=1|B=two words", "192.0.2.1", NULL, NOW, 1,
	    NULL },
	{ "environment=\"=x\" " K1, 1, "invalid environment string", NULL,
	    NULL, 0, 0, NULL },
	{ "environment=\"NOEQUALS\" " K1, 1, "invalid environment string",
	    NULL, NULL, 0, 0, NULL },
	{ "environment=\"A-B=1\" " K1, 1, "invalid environment string", NULL,
	    NULL, 0, 0, NULL },
	/* from= with CIDR blocks, wildcards, negation and names. */
	{ "from=\"192.0.2.0/24,!192.0.2.7\" " K1, 0,
	    ALL " from=192.0.2.0/24,!192.0.2.7", "192.0.2.5", NULL, NOW, 1,
	    NULL },
	{ "from=\"192.0.2.0/24,!192.0.2.7\" " K1, 0,
	    ALL " from=192.0.2.0/24,!192.0.2.7", "192.0.2.7", NULL, NOW, 0,
	    "source address" },
	{ "from=\"192.0.2.0/24,!192.0.2.7\" " K1, 0,
	    ALL " from=192.0.2.0/24,!192.0.2.7", "198.51.100.1", NULL, NOW, 0,
	    "source address" },
	{ "from=\"*.example.com\" " K1, 0, ALL " from=*.example.com",
	    "203.0.113.9", "a.EXAMPLE.com", NOW, 1, NULL },
	{ "from=\"*.example.com\" " K1, 0, ALL " from=*.example.com",
	    "203.0.113.9", NULL, NOW, 0, "source address" },
	{ "from=\"*.example.com,!bad.example.com\" " K1, 0,
	    ALL " from=*.example.com,!bad.example.com", "203.0.113.9",
	    "bad.example.com", NOW, 0, "source address" },
	{ "from=\"2001:db8::/32\" " K1, 0, ALL " from=2001:db8::/32",
	    "2001:db8::1", NULL, NOW, 1, NULL },
	{ "from=\"2001:db8::/32\" " K1, 0, ALL " from=2001:db8::/32",
	    "2001:db9::1", NULL, NOW, 0, "source address" },
	{ "from=\"192.0.2.0/24\" " K1, 0, ALL " from=192.0.2.0/24",
	    "::ffff:192.0.2.1", NULL, NOW, 1, NULL },
	{ "from=\"192.0.2.*\" " K1, 0, ALL " from=192.0.2.*", "192.0.2.200",
	    NULL, NOW, 1, NULL },
	{ "from=\"10.0.0.1/8\" " K1, 0, ALL " from=10.0.0.1/8", "10.0.0.1",
	    NULL, NOW, 0, "source address" },
	{ "from=\"10.0.0.0/33\" " K1, 0, ALL " from=10.0.0.0/33", "10.0.0.1",
	    NULL, NOW, 0, "source address" },
	{ "from=\"10.0.0.0/8,,x\" " K1, 0, ALL " from=10.0.0.0/8,,x",
	    "10.0.0.1", NULL, NOW, 0, "source address" },
	{ "from=\"\" " K1, 1, "empty from pattern", NULL, NULL, 0, 0, NULL },
	{ "from=\"a\",from=\"b\" " K1, 1, "multiple from clauses", NULL,
	    NULL, 0, 0, NULL },
	/* expiry-time= */
	{ "expiry-time=\"20300101Z\" " K1, 0, ALL " exp=1893456000",
	    "192.0.2.1", NULL, T2030 - 1, 1, NULL },
	{ "expiry-time=\"20300101Z\" " K1, 0, ALL " exp=1893456000",
	    "192.0.2.1", NULL, T2030 + 1, 0, "expired" },
	{ "expiry-time=\"203001011200z\" " K1, 0, ALL " exp=1893499200",
	    "192.0.2.1", NULL, NOW, 1, NULL },
	{ "expiry-time=\"20300101120030Z\" " K1, 0, ALL " exp=1893499230",
	    "192.0.2.1", NULL, NOW, 1, NULL },
	{ "expiry-time=\"203001011200Z\",expiry-time=\"20300101Z\" " K1, 0,
	    ALL " exp=1893456000", "192.0.2.1", NULL, NOW, 1, NULL },
	/* Local time: the test runs with TZ=EST5 (UTC-5). */
	{ "expiry-time=\"20300101\" " K1, 0, ALL " exp=1893474000",
	    "192.0.2.1", NULL, NOW, 1, NULL },
	{ "expiry-time=\"2030\" " K1, 1, "invalid expiry-time", NULL, NULL,
	    0, 0, NULL },
	{ "expiry-time=\"20301301Z\" " K1, 1, "invalid expiry-time", NULL,
	    NULL, 0, 0, NULL },
	{ "expiry-time=\"20300101X\" " K1, 1, "invalid expiry-time", NULL,
	    NULL, 0, 0, NULL },
	{ "expiry-time=\"19690101Z\" " K1, 1, "invalid expiry-time", NULL,
	    NULL, 0, 0, NULL },
	/* cert-authority and principals: not for plain keys. */
	{ "cert-authority,principals=\"alice,bob\" " K1, 0,
	    ALL " ca principals=alice,bob", "192.0.2.1", NULL, NOW, 0,
	    "no matching key" },
	{ "principals=\"alice\" " K1, 1, "principals without cert-authority",
	    NULL, NULL, 0, 0, NULL },
	/* permitopen= and permitlisten= */
	{ "permitopen=\"host:22\",permitopen=\"[::1]:*\",permitopen=\"*:80\" "
	    K1, 0, ALL " open=host:22|[::1]:*|*:80", "192.0.2.1", NULL, NOW,
	    1, NULL },
	{ "permitopen=\"host\" " K1, 1, "invalid permitopen host:port", NULL,
	    NULL, 0, 0, NULL },
	{ "permitopen=\"host:0\" " K1, 1, "invalid permitopen host:port",
	    NULL, NULL, 0, 0, NULL },
	{ "permitopen=\":22\" " K1, 1, "invalid permitopen host:port", NULL,
	    NULL, 0, 0, NULL },
	{ "permitopen=\"a:b:22\" " K1, 1, "invalid permitopen host:port",
	    NULL, NULL, 0, 0, NULL },
	{ "permitlisten=\"8080\",permitlisten=\"localhost:*\" " K1, 0,
	    ALL " listen=8080|localhost:*", "192.0.2.1", NULL, NOW, 1, NULL },
	{ "permitlisten=\"x:99999\" " K1, 1,
	    "invalid permitlisten [host:]port", NULL, NULL, 0, 0, NULL },
	/* tunnel= */
	{ "tunnel=\"5\" " K1, 0, ALL " tun=5", "192.0.2.1", NULL, NOW, 1,
	    NULL },
	{ "tunnel=\"x\" " K1, 1, "invalid tunnel number", NULL, NULL, 0, 0,
	    NULL },
	{ "tunnel=\"1\",tunnel=\"2\" " K1, 1, "multiple tunnel clauses", NULL,
	    NULL, 0, 0, NULL },
	/* Syntax errors. */
	{ "bogus-option " K1, 1, "unknown option", NULL, NULL, 0, 0, NULL },
	{ "no-pty, " K1, 1, "bad option syntax", NULL, NULL, 0, 0, NULL },
	{ "no-pty=\"x\" " K1, 1, "option takes no value", NULL, NULL, 0, 0,
	    NULL },
	{ "no-pty", 1, "no key after the options", NULL, NULL, 0, 0, NULL },
	{ "no-pty;x " K1, 1, "bad option syntax", NULL, NULL, 0, 0, NULL },
	{ "no-pty ssh-foo AAAA", 1, "unknown key type", NULL, NULL, 0, 0,
	    NULL },
	{ "no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEmq", 1,
	    "invalid key", NULL, NULL, 0, 0, NULL },
	{ "ssh-dss AAAAB3NzaC1kc3M=", FERR_KEY_TYPE_UNKNOWN,
	    "key type not supported", NULL, NULL, 0, 0, NULL },
	/* Blank and comment lines. */
	{ "", 0, NULL, NULL, NULL, 0, 0, NULL },
	{ "   # " K1, 0, NULL, NULL, NULL, 0, 0, NULL },
};

static void
put_list(struct buf *b, const char *tag, char **l, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	if (buf_putf(b, " %s=", tag) != 0)
		abort();
	for (i = 0; i < n; i++)
		if (buf_putf(b, "%s%s", i ? "|" : "", l[i]) != 0)
			abort();
}

/* A compact text form of the options, for the table. */
static char *
summary(const struct authkeys_opts *o)
{
	struct buf *b = buf_new();
	char *s;

	if (b == NULL || buf_putf(b, "%c%c%c%c%c",
	    o->permit_pty ? 'P' : 'p', o->permit_port_forwarding ? 'F' : 'f',
	    o->permit_agent_forwarding ? 'A' : 'a',
	    o->permit_x11_forwarding ? 'X' : 'x',
	    o->permit_user_rc ? 'U' : 'u') != 0 ||
	    (o->restricted && buf_putf(b, " restrict") != 0) ||
	    (o->no_require_user_presence && buf_putf(b, " no-touch") != 0) ||
	    (o->require_verify && buf_putf(b, " verify") != 0) ||
	    (o->force_command != NULL &&
	    buf_putf(b, " cmd=%s", o->force_command) != 0) ||
	    (o->cert_authority && buf_putf(b, " ca") != 0) ||
	    (o->principals != NULL &&
	    buf_putf(b, " principals=%s", o->principals) != 0) ||
	    (o->from != NULL && buf_putf(b, " from=%s", o->from) != 0) ||
	    (o->valid_before != 0 && buf_putf(b, " exp=%llu",
	    (unsigned long long)o->valid_before) != 0) ||
	    (o->tunnel != -1 && buf_putf(b, " tun=%d", o->tunnel) != 0))
		abort();
	put_list(b, "env", o->env, o->nenv);
	put_list(b, "open", o->permitopen, o->npermitopen);
	put_list(b, "listen", o->permitlisten, o->npermitlisten);
	s = buf_dup_string(b);
	buf_free(b);
	return s;
}

static void
test_table(void)
{
	struct authkeys_entry *e;
	struct authkeys_decision d;
	struct authkeys_client c;
	struct key *k1 = NULL;
	struct buf *b;
	const char *errstr;
	char *s;
	size_t i;
	int r;

	if (key_parse_public_line(K1, &k1) != 0)
		abort();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = authkeys_parse_line(cases[i].line, &e, &errstr);
		if (cases[i].r == 1) {
			ok(r < 0 && e == NULL, "line %zu refused (%d)", i, r);
		} else
			is_int(r, cases[i].r, "line %zu parse result", i);
		if (r != 0) {
			ok(errstr != NULL &&
			    strcmp(errstr, cases[i].want) == 0,
			    "line %zu error '%s'", i, errstr ? errstr : "");
			continue;
		}
		if (cases[i].want == NULL) {
			ok(e == NULL, "line %zu is skipped", i);
			continue;
		}
		s = summary(e->opts);
		ok(s != NULL && strcmp(s, cases[i].want) == 0,
		    "line %zu options '%s'", i, s ? s : "");
		free(s);
		authkeys_entry_free(e);

		/* The decision for K1 over a file of this line alone. */
		c.addr = cases[i].addr;
		c.host = cases[i].host;
		c.now = (time_t)cases[i].now;
		b = buf_from(cases[i].line, strlen(cases[i].line));
		r = authkeys_check_buf(b, "ak", k1, &c, &d);
		is_int(r, 0, "line %zu check", i);
		is_int(d.allowed, cases[i].allowed, "line %zu decision", i);
		if (cases[i].allowed)
			ok(d.opts != NULL && d.line == 1 && d.file != NULL &&
			    strcmp(d.file, "ak") == 0,
			    "line %zu: options and place", i);
		else
			ok(d.opts == NULL && strstr(d.reason,
			    cases[i].reason) != NULL,
			    "line %zu reason '%s'", i, d.reason);
		authkeys_decision_clear(&d);
		buf_free(b);
	}
	key_free(k1);
}

static const struct {
	const char *patterns;
	const char *addr;
	const char *host;
	int want;
} from_cases[] = {
	{ "192.0.2.1", "192.0.2.1", NULL, 1 },
	{ "192.0.2.1", "192.0.2.2", NULL, 0 },
	{ "192.0.2.0/31", "192.0.2.1", NULL, 1 },
	{ "192.0.2.0/32", "192.0.2.1", NULL, 0 },
	{ "0.0.0.0/0", "198.51.100.7", NULL, 1 },
	{ "0.0.0.0/0", "2001:db8::1", NULL, 0 },
	{ "::/0", "2001:db8::1", NULL, 1 },
	{ "2001:db8::1", "2001:DB8:0::1", NULL, 1 },
	{ "!192.0.2.1", "192.0.2.1", NULL, -1 },
	{ "!192.0.2.1", "192.0.2.2", NULL, 0 },
	{ "*", "192.0.2.2", NULL, 1 },
	{ "host.example", "192.0.2.2", "HOST.example", 1 },
	{ "host.example", "192.0.2.2", NULL, 0 },
	{ "192.0.2.2,!host.example", "192.0.2.2", "host.example", -1 },
	{ "192.0.2.0/24", "not-an-address", NULL, 0 },
	{ "192.0.2.1/24", "192.0.2.1", NULL, -1 },
	{ "192.0.2.0/-1", "192.0.2.1", NULL, -1 },
	{ "192.0.2.0/x", "192.0.2.1", NULL, -1 },
	{ "!", "192.0.2.1", NULL, -1 },
	{ "a,", "192.0.2.1", NULL, -1 },
};

static void
test_from(void)
{
	size_t i;

	for (i = 0; i < sizeof(from_cases) / sizeof(from_cases[0]); i++)
		is_int(authkeys_match_from(from_cases[i].patterns,
		    from_cases[i].addr, from_cases[i].host), from_cases[i].want,
		    "from=\"%s\" for %s %s", from_cases[i].patterns,
		    from_cases[i].addr,
		    from_cases[i].host ? from_cases[i].host : "(no name)");
	is_int(authkeys_match_from(NULL, "192.0.2.1", NULL), -1,
	    "no patterns");
	is_int(authkeys_match_from("*", NULL, NULL), -1, "no address");
}

static char logged[4096];

static void
log_capture(enum log_level level, const char *msg, void *ctx)
{
	size_t n = strlen(logged);

	(void)level;
	(void)ctx;
	(void)snprintf(logged + n, sizeof(logged) - n, "%s\n", msg);
}

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fwrite(text, 1, len, f) != len)
		abort();
	fclose(f);
}

static const char text1[] =
    "bogus " K1 "\n"
    "expiry-time=\"20200101Z\" " K1 "\n"
    "from=\"10.0.0.0/8\" " K1 "\n"
    "no-pty\0 " K1 "\n";
static const char text2[] =
    "# second file\n"
    "restrict,command=\"sftp\" " K1 "\n"
    K2 "\n";

static void
test_files(void)
{
	char dir[] = "/tmp/ferry-ak-XXXXXX", f1[256], f2[256], missing[256];
	const char *files[3];
	struct authkeys_decision d;
	struct authkeys_client c = { "192.0.2.1", NULL, (time_t)NOW };
	struct key *k1 = NULL, *k2 = NULL;

	if (mkdtemp(dir) == NULL || key_parse_public_line(K1, &k1) != 0 ||
	    key_parse_public_line(K2, &k2) != 0)
		abort();
	snprintf(f1, sizeof(f1), "%s/authorized_keys", dir);
	snprintf(f2, sizeof(f2), "%s/authorized_keys2", dir);
	snprintf(missing, sizeof(missing), "%s/missing", dir);
	write_file(f1, text1, sizeof(text1) - 1);
	write_file(f2, text2, sizeof(text2) - 1);
	files[0] = f1;
	files[1] = missing;
	files[2] = f2;

	log_set_handler(log_capture, NULL);
	log_set_level(LOGL_INFO);
	logged[0] = '\0';
	ok(authkeys_check(files, 3, k1, &c, &d) == 0 && d.allowed &&
	    d.line == 2 && strcmp(d.file, f2) == 0 && d.opts != NULL &&
	    d.opts->restricted && d.opts->force_command != NULL &&
	    strcmp(d.opts->force_command, "sftp") == 0,
	    "refusing lines are passed over; the second file allows");
	authkeys_decision_clear(&d);
	ok(strstr(logged, "authorized_keys:1: malformed authorized_keys "
	    "line skipped: unknown option") != NULL,
	    "malformed line logged with file and line");
	ok(strstr(logged, "authorized_keys:4: malformed authorized_keys "
	    "line skipped: NUL byte") != NULL, "a NUL byte makes a line "
	    "malformed");

	ok(authkeys_check(files, 1, k1, &c, &d) == 0 && !d.allowed &&
	    d.line == 3 && strstr(d.reason, "source address") != NULL,
	    "refused: the reason of the last matching line (%s)", d.reason);
	authkeys_decision_clear(&d);
	ok(authkeys_check(files, 1, k2, &c, &d) == 0 && !d.allowed &&
	    d.line == 0 && strcmp(d.reason, "no matching key") == 0,
	    "no line for the key");
	authkeys_decision_clear(&d);
	ok(authkeys_check(files, 3, k2, &c, &d) == 0 && d.allowed &&
	    d.line == 3, "second key in the second file");
	authkeys_decision_clear(&d);
	ok(authkeys_check(files, 0, k1, &c, &d) == 0 && !d.allowed,
	    "no files: refused");
	authkeys_decision_clear(&d);

	/* Errors refuse. */
	files[1] = dir;
	ok(authkeys_check(files, 3, k2, &c, &d) < 0 && !d.allowed &&
	    d.opts == NULL, "an unreadable file is an error, not a pass");
	authkeys_decision_clear(&d);
	c.addr = NULL;
	ok(authkeys_check(files, 1, k1, &c, &d) == FERR_ARGUMENT &&
	    !d.allowed, "no client address: error");
	authkeys_decision_clear(&d);
	ok(authkeys_check_buf(NULL, "x", k1, &c, &d) == FERR_ARGUMENT &&
	    !d.allowed, "no buffer: error");
	log_set_handler(NULL, NULL);
	unlink(f1);
	unlink(f2);
	rmdir(dir);
	key_free(k1);
	key_free(k2);
}

int
main(void)
{
	/* Local expiry times are read in a fixed zone, UTC-5. */
	setenv("TZ", "EST5", 1);
	tzset();
	test_table();
	test_from();
	test_files();
	return tap_done();
}
