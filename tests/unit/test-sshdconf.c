/*
 * Unit tests for the sshd_config(5) reader: table-driven parses, Match
 * evaluation per user, group, address, local address/port and host,
 * error reports with file and line, overrides and the `sshd -T` printer.
 */
#include "config.h"

#include <sys/stat.h>

#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sshdconf.h"
#include "tap.h"

static char logbuf[16384];

static void
capture(enum log_level level, const char *msg, void *ctx)
{
	size_t len = strlen(logbuf);

	(void)level;
	(void)ctx;
	snprintf(logbuf + len, sizeof(logbuf) - len, "%s\n", msg);
}

static const char *
oneline(const char *s)
{
	static char buf[2][256];
	static int k;
	size_t i;

	k = !k;
	for (i = 0; *s != '\0' && i < sizeof(buf[k]) - 2; s++) {
		if (*s == '\n') {
			buf[k][i++] = '\\';
			buf[k][i++] = 'n';
		} else
			buf[k][i++] = *s;
	}
	buf[k][i] = '\0';
	return buf[k];
}

static int
load(const char *text, struct sshdconf **cp)
{
	logbuf[0] = '\0';
	return sshdconf_load_string(text, strlen(text), "S", NULL, 0, cp);
}

/* Dump c (or the effective settings for spec) into out. */
static int
dump(const struct sshdconf *c, const char *spec, char *out, size_t len)
{
	struct sshdconf_conn conn;
	struct sshdconf *eff = NULL;
	struct buf *b;
	int r = 0;

	if ((b = buf_new()) == NULL)
		return FERR_ALLOC;
	if (spec != NULL) {
		if ((r = sshdconf_conn_parse(spec, &conn)) == 0) {
			r = sshdconf_match(c, &conn, &eff);
			sshdconf_conn_clear(&conn);
		}
	}
	if (r == 0)
		r = sshdconf_dump(eff != NULL ? eff : c, b);
	if (r == 0 && buf_len(b) < len) {
		memcpy(out, buf_ptr(b), buf_len(b));
		out[buf_len(b)] = '\0';
	}
	sshdconf_free(eff);
	buf_free(b);
	return r;
}

/* Global settings: text and a line the dump must contain. */
static const struct {
	const char *text, *want;
} table[] = {
	{ "", "port 22\naddressfamily any\nlistenaddress [::]:22\n"
	    "listenaddress 0.0.0.0:22\nusepam no\nlogingracetime 120\n"
	    "maxauthtries 6\nmaxsessions 10\nclientaliveinterval 0\n"
	    "clientalivecountmax 3\npermitrootlogin without-password\n"
	    "pubkeyauthentication yes\npasswordauthentication yes\n"
	    "kbdinteractiveauthentication yes\nstrictmodes yes\n"
	    "permitemptypasswords no\ncompression yes\n"
	    "disableforwarding no\npidfile /run/fsshd.pid\n"
	    "modulifile /etc/ssh/moduli\n" },
	{ "", "banner none\nforcecommand none\nchrootdirectory none\n"
	    "trustedusercakeys none\nauthorizedprincipalsfile none\n" },
	{ "", "loglevel INFO\nsyslogfacility AUTH\nauthorizedkeysfile "
	    ".ssh/authorized_keys .ssh/authorized_keys2\n"
	    "hostkey /etc/ssh/ssh_host_rsa_key\n"
	    "hostkey /etc/ssh/ssh_host_ecdsa_key\n"
	    "hostkey /etc/ssh/ssh_host_ed25519_key\n"
	    "authenticationmethods any\nmaxstartups 10:30:100\n"
	    "persourcepenalties crash:90 authfail:5 noauth:1 "
	    "grace-exceeded:20 max:600 min:15 max-sources4:65536 "
	    "max-sources6:65536 overflow:permissive overflow6:permissive\n"
	    "persourcepenaltyexemptlist none\n"
	    "persourcenetblocksize 32:128\nrekeylimit 0 0\n"
	    "permituserenvironment no\n" },
	{ "PerSourceNetBlockSize 24\n", "persourcenetblocksize 24:128\n" },
	{ "PerSourceNetBlockSize 16:48\nPerSourceNetBlockSize 8\n",
	    "persourcenetblocksize 16:48\n" },
	{ "Port 2\nPort 3\n", "port 2\nport 3\n" },
	{ "Port 2\nPort 3\n", "listenaddress [::]:2\nlistenaddress 0.0.0.0:2\n"
	    "listenaddress [::]:3\nlistenaddress 0.0.0.0:3\n" },
	{ "AddressFamily inet\nPort 5\n", "listenaddress 0.0.0.0:5\nusepam" },
	{ "ListenAddress 127.0.0.1\nListenAddress [::1]:99\nPort 4\n",
	    "listenaddress 127.0.0.1:4\nlistenaddress [::1]:99\n" },
	{ "ListenAddress ::1\n", "listenaddress [::1]:22\n" },
	{ "ListenAddress 10.0.0.1:2022\n", "listenaddress 10.0.0.1:2022\n" },
	{ "MaxSessions 1\nMaxSessions 2\n", "maxsessions 1\n" },
	{ "LoginGraceTime 1h30m\n", "logingracetime 5400\n" },
	{ "LoginGraceTime 0\n", "logingracetime 0\n" },
	{ "ClientAliveInterval 2m\nClientAliveCountMax 0\n",
	    "clientaliveinterval 120\nclientalivecountmax 0\n" },
	{ "PermitRootLogin prohibit-password\n",
	    "permitrootlogin without-password\n" },
	{ "PermitRootLogin forced-commands-only\n",
	    "permitrootlogin forced-commands-only\n" },
	{ "PermitRootLogin no\nPermitRootLogin yes\n", "permitrootlogin no\n" },
	{ "ChallengeResponseAuthentication no\n",
	    "kbdinteractiveauthentication no\n" },
	{ "Compression delayed\n", "compression yes\n" },
	{ "Compression no\n", "compression no\n" },
	{ "UsePAM yes\n", "usepam yes\n" },
	{ "Banner \"/etc/my banner\"\n", "banner /etc/my banner\n" },
	{ "ForceCommand  internal-sftp  -d /x\n",
	    "forcecommand internal-sftp  -d /x\n" },
	{ "ChrootDirectory /srv/%u\n", "chrootdirectory /srv/%u\n" },
	{ "AuthorizedKeysFile /a/%u %h/.k\nAuthorizedKeysFile /b\n",
	    "authorizedkeysfile /a/%u %h/.k\n" },
	{ "AuthorizedKeysFile none\n", "authorizedkeysfile none\n" },
	{ "HostKey /k1\nHostKey /k2\n", "hostkey /k1\nhostkey /k2\n" },
	{ "HostCertificate /c1\n", "hostcertificate /c1\n" },
	{ "AllowUsers a b\nAllowUsers c\nDenyUsers d@10.*\n",
	    "allowusers a\nallowusers b\nallowusers c\ndenyusers d@10.*\n" },
	{ "AllowGroups g\nDenyGroups h i\n",
	    "allowgroups g\ndenygroups h\ndenygroups i\n" },
	{ "AcceptEnv LANG LC_*\nAcceptEnv TZ\n",
	    "acceptenv LANG\nacceptenv LC_*\nacceptenv TZ\n" },
	{ "SetEnv A=1 B=2 A=3\nSetEnv C=3\n", "setenv A=1\nsetenv B=2\n"
	    "authenticationmethods" },
	{ "AuthenticationMethods publickey,password "
	    "publickey,keyboard-interactive:pam\n", "authenticationmethods "
	    "publickey,password publickey,keyboard-interactive:pam\n" },
	{ "Subsystem sftp internal-sftp -l  INFO\nSubsystem x /bin/x\n",
	    "subsystem sftp internal-sftp -l INFO\nsubsystem x /bin/x\n" },
	{ "MaxStartups 5\n", "maxstartups 5:30:5\n" },
	{ "MaxStartups 5:50:20\n", "maxstartups 5:50:20\n" },
	{ "RekeyLimit 1G 30m\n", "rekeylimit 1073741824 1800\n" },
	{ "RekeyLimit default none\n", "rekeylimit 0 0\n" },
	{ "LogLevel debug\n", "loglevel DEBUG\n" },
	{ "SyslogFacility local7\n", "syslogfacility LOCAL7\n" },
	{ "PermitUserEnvironment YES\n", "permituserenvironment yes\n" },
	{ "PermitUserEnvironment LANG,TZ\n",
	    "permituserenvironment LANG,TZ\n" },
	{ "DisableForwarding yes\n", "disableforwarding yes\n" },
	{ "ModuliFile /m\nPidFile none\n", "pidfile none\nmodulifile /m\n" },
	{ "StrictModes no\n", "strictmodes no\n" },
	{ "Ciphers aes128-ctr\nMACs hmac-sha2-256\n",
	    "ciphers aes128-ctr\nmacs hmac-sha2-256\n" },
	{ "KexAlgorithms -diffie-hellman-group14-sha256\n", "kexalgorithms " },
	{ "PubkeyAcceptedKeyTypes ssh-ed25519\n",
	    "pubkeyacceptedalgorithms ssh-ed25519\n" },
	{ "HostKeyAlgorithms ssh-ed25519\n", "hostkeyalgorithms ssh-ed25519\n" },
	{ "PerSourcePenalties no\n", "persourcepenalties no\n" },
	{ "PerSourcePenalties crash:2m authfail:1m overflow:deny-all\n",
	    "persourcepenalties crash:120 authfail:60 noauth:1 "
	    "grace-exceeded:20 max:600 min:15 max-sources4:65536 "
	    "max-sources6:65536 overflow:deny-all overflow6:deny-all\n" },
	{ "PerSourcePenalties max-sources6:10 overflow6:deny-all\n",
	    "max-sources6:10 overflow:permissive overflow6:deny-all\n" },
	{ "PerSourcePenaltyExemptList 10.0.0.0/8,::1\n",
	    "persourcepenaltyexemptlist 10.0.0.0/8,::1\n" },
	{ "X11Forwarding yes\nPrintMotd no\nUseDNS no\nPort 7\n",
	    "port 7\n" },
	{ "protocol 2\nPort 8\n", "port 8\n" },
	{ "port=9\n", "port 9\n" },
};

static void
test_table(void)
{
	struct sshdconf *c;
	char out[16384];
	size_t i;
	int r;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		out[0] = '\0';
		r = load(table[i].text, &c);
		if (r == 0)
			r = dump(c, NULL, out, sizeof(out));
		ok(r == 0 && strstr(out, table[i].want) != NULL,
		    "table %zu: %s -> %s", i, oneline(table[i].text),
		    oneline(table[i].want));
		sshdconf_free(c);
	}
}

/* Texts that must be refused and the message naming file and line. */
static const struct {
	const char *text, *msg;
} errors[] = {
	{ "NoSuch 1\n", "S line 1: Bad configuration option: nosuch" },
	{ "Port\n", "S line 1: no argument after keyword \"port\"" },
	{ "Port 0\n", "Badly formatted port number" },
	{ "Port 1 2\n", "port: garbage at end of line" },
	{ "ListenAddress [::1\n", "bad address:port usage" },
	{ "ListenAddress 1.2.3.4:x\n", "bad address:port usage" },
	{ "PermitRootLogin maybe\n", "unsupported option \"maybe\"" },
	{ "PubkeyAuthentication true\n", "unsupported option \"true\"" },
	{ "LoginGraceTime 1y\n", "invalid time value" },
	{ "MaxAuthTries -1\n", "maxauthtries integer value too small" },
	{ "MaxStartups 20:30:10\n", "Illegal MaxStartups spec" },
	{ "MaxStartups 1:101:10\n", "Illegal MaxStartups spec" },
	{ "MaxStartups 1:2\n", "Illegal MaxStartups spec" },
	{ "MaxStartups 1:2:3:4\n", "Illegal MaxStartups spec" },
	{ "PerSourceNetBlockSize 33\n", "invalid PerSourceNetBlockSize" },
	{ "PerSourceNetBlockSize 24:129\n", "invalid PerSourceNetBlockSize" },
	{ "PerSourceNetBlockSize 24:x\n", "invalid PerSourceNetBlockSize" },
	{ "RekeyLimit 8\n", "RekeyLimit too small" },
	{ "RekeyLimit 1G 2q\n", "invalid rekey interval" },
	{ "Ciphers des-cbc\n", "Bad SSH2 algorithm list" },
	{ "AuthenticationMethods any publickey\n", "\"any\" must appear "
	    "alone" },
	{ "AuthenticationMethods publickey,carrier-pigeon\n",
	    "invalid authentication method list" },
	{ "AcceptEnv A=B\n", "Invalid environment name" },
	{ "SetEnv NOVALUE\n", "Invalid environment" },
	{ "Subsystem sftp\n", "Missing subsystem command" },
	{ "Subsystem sftp a\nSubsystem sftp b\n", "S line 2: Subsystem "
	    "'sftp' already defined" },
	{ "LogLevel LOUD\n", "unsupported option \"LOUD\"" },
	{ "SyslogFacility KERN\n", "unsupported option \"KERN\"" },
	{ "PerSourcePenalties crash\n", "invalid PerSourcePenalties argument" },
	{ "PerSourcePenalties bogus:1\n", "unknown PerSourcePenalties "
	    "keyword" },
	{ "PerSourcePenalties overflow:maybe\n", "invalid PerSourcePenalties "
	    "value" },
	{ "PerSourcePenaltyExemptList 10.*\n",
	    "invalid PerSourcePenaltyExemptList" },
	{ "Banner \"open\n", "invalid quotes" },
	{ "Match\n", "no argument after keyword \"match\"" },
	{ "Match Color red\n", "Unsupported Match attribute Color" },
	{ "Match User\n", "Missing Match criteria for User" },
	{ "Match All User x\n", "'all' cannot be combined" },
	{ "Match Address 10.0.0.1/8\n", "Invalid Match address argument" },
	{ "Match LocalPort http\n", "Invalid LocalPort 'http'" },
	{ "Match User x\n  Port 2\n", "S line 2: Directive 'port' is not "
	    "allowed within a Match block" },
	{ "Match User x\n  UsePAM no\n", "Directive 'usepam' is not allowed" },
	{ "Match User x\n  PermitRootLogin maybe\n", "S line 2: unsupported "
	    "option" },
	{ "Include /nonexistent/dir/*.conf\nNoSuch 1\n", "S line 2:" },
};

static void
test_errors(void)
{
	struct sshdconf *c;
	size_t i;
	int r;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		c = NULL;
		r = load(errors[i].text, &c);
		ok(r == FERR_CONFIG && c == NULL &&
		    strstr(logbuf, errors[i].msg) != NULL,
		    "error %zu: %s -> %s", i, oneline(errors[i].text),
		    errors[i].msg);
		if (strstr(logbuf, errors[i].msg) == NULL)
			tap_diag("logged: %s", logbuf);
	}
	r = load("Port x\nFoo 1\nMatch User a\n  HostKey /k\n"
	    "  MaxSessions -3\n", &c);
	ok(r == FERR_CONFIG && strstr(logbuf, "S line 1:") != NULL &&
	    strstr(logbuf, "S line 2:") != NULL &&
	    strstr(logbuf, "S line 4:") != NULL &&
	    strstr(logbuf, "S line 5:") != NULL &&
	    strstr(logbuf, "terminating, 4 bad configuration options") !=
	    NULL, "-t reports every error with its line");
}

static void
test_match(void)
{
	static const char text[] =
	    "MaxSessions 9\n"
	    "Banner /global\n"
	    "AllowUsers a b c\n"
	    "Subsystem sftp /usr/lib/sftp-server\n"
	    "Subsystem other /bin/other\n"
	    "Match User alice,!bob\n"
	    "  MaxSessions 2\n"
	    "  ChrootDirectory /srv/%u\n"
	    "  ForceCommand internal-sftp\n"
	    "  Subsystem sftp internal-sftp -R\n"
	    "  Subsystem extra /bin/extra\n"
	    "Match Group staff\n"
	    "  MaxSessions 3\n"
	    "  AllowUsers staffer\n"
	    "Match Address 10.0.0.0/8,!10.9.0.0/16\n"
	    "  Banner /ten\n"
	    "  PasswordAuthentication no\n"
	    "Match Address 192.168.*\n"
	    "  ClientAliveInterval 30\n"
	    "Match LocalAddress ::1 LocalPort 2222\n"
	    "  LogLevel DEBUG3\n"
	    "Match Host *.Example.COM\n"
	    "  PermitRootLogin no\n"
	    "Match All\n"
	    "  MaxSessions 8\n"
	    "  Banner /all\n";
	static const struct {
		const char *spec, *want;
	} cases[] = {
		{ "user=alice", "maxsessions 2\n" },
		{ "user=alice", "chrootdirectory /srv/%u\n" },
		{ "user=alice", "forcecommand internal-sftp\n" },
		{ "user=alice", "subsystem sftp internal-sftp -R\n"
		    "subsystem other /bin/other\nsubsystem extra /bin/extra\n" },
		{ "user=bob", "maxsessions 8\n" },
		{ "user=bob", "subsystem sftp /usr/lib/sftp-server\n"
		    "subsystem other /bin/other\nmaxstartups" },
		{ "user=bob", "allowusers a\nallowusers b\nallowusers c\n" },
		{ "user=bob,addr=10.1.2.3", "banner /ten\n" },
		{ "user=bob,addr=10.1.2.3", "passwordauthentication no\n" },
		{ "user=bob,addr=10.9.2.3", "banner /all\n" },
		{ "user=bob,addr=10.9.2.3", "passwordauthentication yes\n" },
		{ "user=bob,addr=11.0.0.1", "banner /all\n" },
		{ "user=bob,addr=192.168.4.5", "clientaliveinterval 30\n" },
		{ "user=bob,addr=192.169.4.5", "clientaliveinterval 0\n" },
		{ "user=bob,laddr=::1,lport=2222", "loglevel DEBUG3\n" },
		{ "user=bob,laddr=::1,lport=2223", "loglevel INFO\n" },
		{ "user=bob,host=www.example.com", "permitrootlogin no\n" },
		{ "user=bob,host=www.example.org",
		    "permitrootlogin without-password\n" },
		{ "", "maxsessions 8\n" },
	};
	struct sshdconf *c, *eff;
	struct sshdconf_conn conn;
	char out[16384];
	size_t i;
	int r;

	r = load(text, &c);
	ok(r == 0, "Match configuration loads");
	if (r != 0) {
		tap_diag("%s", logbuf);
		return;
	}
	r = dump(c, NULL, out, sizeof(out));
	ok(r == 0 && strstr(out, "maxsessions 9\n") != NULL &&
	    strstr(out, "banner /global\n") != NULL,
	    "global settings ignore Match blocks");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out[0] = '\0';
		r = dump(c, cases[i].spec, out, sizeof(out));
		ok(r == 0 && strstr(out, cases[i].want) != NULL,
		    "Match for %s -> %s", cases[i].spec,
		    oneline(cases[i].want));
	}

	/* Groups come from the connection: set them by hand. */
	memset(&conn, 0, sizeof(conn));
	conn.lport = -1;
	conn.user = strdup("carol");
	conn.groups.v = calloc(3, sizeof(char *));
	conn.groups.v[0] = strdup("users");
	conn.groups.v[1] = strdup("staff");
	conn.groups.n = 2;
	r = sshdconf_match(c, &conn, &eff);
	ok(r == 0 && eff->max_sessions == 3 && eff->allow_users.n == 1 &&
	    strcmp(eff->allow_users.v[0], "staffer") == 0,
	    "Match Group with the user's groups; lists are replaced");
	sshdconf_free(eff);
	free(conn.groups.v[1]);
	conn.groups.v[1] = strdup("other");
	r = sshdconf_match(c, &conn, &eff);
	ok(r == 0 && eff->max_sessions == 8, "Match Group misses");
	sshdconf_free(eff);
	sshdconf_conn_clear(&conn);
	sshdconf_free(c);

	/* Negated group pattern wins over a positive one. */
	r = load("Match Group staff,!wheel\n  MaxSessions 4\n", &c);
	memset(&conn, 0, sizeof(conn));
	conn.user = strdup("dave");
	conn.groups.v = calloc(3, sizeof(char *));
	conn.groups.v[0] = strdup("staff");
	conn.groups.v[1] = strdup("wheel");
	conn.groups.n = 2;
	r = sshdconf_match(c, &conn, &eff);
	ok(r == 0 && eff->max_sessions == 10, "negated group match wins");
	sshdconf_free(eff);
	sshdconf_conn_clear(&conn);
	sshdconf_free(c);
}

static void
test_overrides(void)
{
	const char *opts[] = { "MaxSessions 1", "Banner=/cmd" };
	const char *bad[] = { "Match User x" };
	struct sshdconf *c;
	int r;

	logbuf[0] = '\0';
	r = sshdconf_load_string("MaxSessions 5\nBanner /file\n", 27, "S",
	    opts, 2, &c);
	ok(r == 0 && c->max_sessions == 1 && strcmp(c->banner, "/cmd") == 0,
	    "-o overrides win over the file");
	sshdconf_free(c);
	r = sshdconf_load_string("", 0, "S", bad, 1, &c);
	ok(r == FERR_CONFIG && strstr(logbuf, "command-line line 1: Match "
	    "directive not supported") != NULL, "-o Match refused");
}

static void
test_misc(void)
{
	struct sshdconf_conn conn;
	char *s = NULL;
	int r;

	r = sshdconf_expand("%h/.ssh/%u-%%", "/home/u", "u", &s);
	ok(r == 0 && strcmp(s, "/home/u/.ssh/u-%") == 0, "expand %%h %%u %%%%");
	free(s);
	is_int(sshdconf_expand("%d", "/h", "u", &s), FERR_CONFIG,
	    "expand refuses other tokens");

	r = sshdconf_conn_parse("user=root,host=h,addr=1.2.3.4,laddr=::1,"
	    "lport=22,rdomain=x", &conn);
	ok(r == 0 && strcmp(conn.user, "root") == 0 &&
	    strcmp(conn.host, "h") == 0 && strcmp(conn.address, "1.2.3.4") ==
	    0 && strcmp(conn.laddress, "::1") == 0 && conn.lport == 22,
	    "-C spec parsed");
	ok(conn.groups.n >= 1, "root's groups looked up");
	sshdconf_conn_clear(&conn);
	is_int(sshdconf_conn_parse("user=x,colour=red", &conn), FERR_CONFIG,
	    "-C unknown field");
	is_int(sshdconf_conn_parse("lport=99999", &conn), FERR_CONFIG,
	    "-C bad port");
	is_int(sshdconf_conn_parse("user", &conn), FERR_CONFIG,
	    "-C field without value");
}

static char tmpdir[] = "/tmp/ferry-sshdconf-XXXXXX";

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

static void
test_include(void)
{
	struct sshdconf *c, *eff;
	struct sshdconf_conn conn;
	char p[512], main_conf[512], text[1024];
	int r;

	snprintf(p, sizeof(p), "%s/a.conf", tmpdir);
	write_file(p, "MaxSessions 4\nMatch User inc\n  MaxAuthTries 1\n");
	snprintf(p, sizeof(p), "%s/b.inc", tmpdir);
	write_file(p, "MaxSessions 5\nBanner /b\n");
	snprintf(main_conf, sizeof(main_conf), "%s/main", tmpdir);
	snprintf(text, sizeof(text), "Include %s/*.conf\nMaxSessions 6\n"
	    "ClientAliveInterval 5\nMatch User x\n  Include %s/b.inc\n",
	    tmpdir, tmpdir);
	write_file(main_conf, text);
	logbuf[0] = '\0';
	r = sshdconf_load(main_conf, NULL, 0, &c);
	ok(r == 0 && c->max_sessions == 4 && c->client_alive_interval == 5 &&
	    strcmp(c->banner, "none") == 0,
	    "Include glob; a Match in an included file ends with it");
	if (r != 0)
		tap_diag("%s", logbuf);
	memset(&conn, 0, sizeof(conn));
	conn.user = strdup("x");
	r = c == NULL ? FERR_CONFIG : sshdconf_match(c, &conn, &eff);
	ok(r == 0 && strcmp(eff->banner, "/b") == 0 && eff->max_sessions == 5,
	    "Include inside a Match block applies to it");
	sshdconf_free(eff);
	free(conn.user);
	conn.user = strdup("inc");
	r = c == NULL ? FERR_CONFIG : sshdconf_match(c, &conn, &eff);
	ok(r == 0 && eff->max_auth_tries == 1, "Match from an included file");
	sshdconf_free(eff);
	sshdconf_conn_clear(&conn);
	sshdconf_free(c);

	snprintf(text, sizeof(text), "Include %s\n", main_conf);
	write_file(main_conf, text);
	r = sshdconf_load(main_conf, NULL, 0, &c);
	ok(r == FERR_CONFIG && strstr(logbuf, "Too many recursive") != NULL,
	    "Include recursion is limited");
	snprintf(p, sizeof(p), "%s/missing", tmpdir);
	is_int(sshdconf_load(p, NULL, 0, &c), FERR_SYSTEM,
	    "a missing file is FERR_SYSTEM");
}

int
main(void)
{
	log_set_handler(capture, NULL);
	log_set_level(LOGL_DEBUG3);
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	test_table();
	test_errors();
	test_match();
	test_overrides();
	test_misc();
	test_include();
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
