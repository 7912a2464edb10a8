/*
 * fssh-keygen: key generation, public keys, fingerprints, passphrase and
 * comment changes, RFC 4716 conversion, known_hosts upkeep (-F, -R, -H),
 * certificates (-s, -L), host keys (-A).  The command line, messages,
 * output and exit statuses follow OpenSSH 9.2's ssh-keygen for the
 * options implemented here; the rest are refused with a usage error.
 *
 * Exit statuses as ssh-keygen: 0 success, 1 usage errors, declined
 * overwrites and failed saves, 255 fatal errors (unreadable or wrong
 * keys, wrong passphrases).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/authkeys.h"
#include "ferry/key-cert.h"
#include "ferry/key.h"
#include "ferry/knownhosts.h"
#include "ferry/log.h"
#include "misc.h"
#include "prog.h"
#include "prog-tty.h"

#define KG_EXIT_USAGE		1
#define KG_PASS_MAX		1024
#define KG_PATH_MAX		4096

/* -m: the public key formats of -e and -i. */
enum kg_format {
	KG_FMT_RFC4716 = 0,
	KG_FMT_PKCS8,
	KG_FMT_PEM,
};

enum kg_mode {
	KG_GENERATE = 0,
	KG_PRINT_PUBLIC,	/* -y */
	KG_FINGERPRINT,		/* -l */
	KG_CHANGE_PASS,		/* -p */
	KG_CHANGE_COMMENT,	/* -c */
	KG_EXPORT,		/* -e */
	KG_IMPORT,		/* -i */
	KG_SHOW_CERT,		/* -L */
};

/* -F, -R, -H: known_hosts upkeep. */
enum kg_kh_mode {
	KG_KH_NONE = 0,
	KG_KH_FIND,		/* -F */
	KG_KH_REMOVE,		/* -R */
	KG_KH_HASH,		/* -H alone */
};

static struct {
	enum kg_mode mode;
	enum kg_kh_mode kh_mode;
	const char *kh_host;	/* -F, -R */
	int hash_hosts;		/* -H */
	const char *cert_ca;	/* -s */
	const char *cert_key_id;	/* -I */
	const char *cert_principals;	/* -n */
	const char *cert_validity;	/* -V */
	int cert_host;		/* -h */
	int gen_host_keys;	/* -A */
	uint64_t cert_serial;	/* -z */
	const char *cert_force_command;	/* -O force-command= */
	const char *cert_source_address;	/* -O source-address= */
	unsigned char cert_ext[5];	/* -O: which extensions */
	int cert_ext_set;
	int nmodes;
	const char *type;
	unsigned int bits;
	char path[KG_PATH_MAX];
	int have_path;
	const char *new_pass;	/* -N */
	const char *old_pass;	/* -P */
	const char *comment;	/* -C */
	int quiet;
	int verbose;
	enum key_fp_hash fp_hash;
	unsigned int rounds;
	const char *cipher;
	enum kg_format format;
	int have_format;
	struct passwd *pw;
} kg;

/* -t names: ssh-keygen's short names and the SSH names. */
static const struct {
	const char *name;
	enum key_type type;	/* KEY_UNSPEC: ECDSA, curve from -b */
	const char *file;	/* default file under ~/.ssh */
} kg_types[] = {
	{ "rsa", KEY_RSA, "id_rsa" },
	{ "ssh-rsa", KEY_RSA, "id_rsa" },
	{ "ed25519", KEY_ED25519, "id_ed25519" },
	{ "ssh-ed25519", KEY_ED25519, "id_ed25519" },
	{ "ecdsa", KEY_UNSPEC, "id_ecdsa" },
	{ "ecdsa-sha2-nistp256", KEY_ECDSA_P256, "id_ecdsa" },
	{ "ecdsa-sha2-nistp384", KEY_ECDSA_P384, "id_ecdsa" },
	{ "ecdsa-sha2-nistp521", KEY_ECDSA_P521, "id_ecdsa" },
};

/* ssh-keygen options that belong to features not built yet. */
static const struct {
	int ch;
	const char *what;
} kg_later[] = {
	{ 'B', "bubblebabble digests" },
	{ 'D', "PKCS#11" },
	{ 'G', "moduli generation" },
	{ 'K', "FIDO keys" },
	{ 'M', "moduli" },
	{ 'Q', "key revocation lists" },
	{ 'T', "moduli screening" },
	{ 'U', "ssh-agent keys" },
	{ 'Y', "SSHSIG signatures" },
	{ 'k', "key revocation lists" },
	{ 'r', "SSHFP records" },
	{ 'u', "key revocation lists" },
	{ 'w', "FIDO keys" },
};

static void __attribute__((noreturn))
kg_usage(void)
{
	fprintf(stderr,
	    "usage: fssh-keygen [-q] [-a rounds] [-b bits] [-C comment] "
	    "[-f output_keyfile]\n"
	    "                   [-N new_passphrase] [-t ecdsa | ed25519 | rsa] "
	    "[-Z cipher]\n"
	    "       fssh-keygen -p [-a rounds] [-f keyfile] "
	    "[-N new_passphrase]\n"
	    "                   [-P old_passphrase] [-Z cipher]\n"
	    "       fssh-keygen -i [-f input_keyfile] [-m key_format]\n"
	    "       fssh-keygen -e [-f input_keyfile] [-m key_format]\n"
	    "       fssh-keygen -y [-f input_keyfile] [-P passphrase]\n"
	    "       fssh-keygen -c [-a rounds] [-C comment] [-f keyfile] "
	    "[-P passphrase]\n"
	    "       fssh-keygen -l [-v] [-E fingerprint_hash] "
	    "[-f input_keyfile]\n"
	    "       fssh-keygen -F hostname [-lv] [-f known_hosts_file]\n"
	    "       fssh-keygen -H [-f known_hosts_file]\n"
	    "       fssh-keygen -R hostname [-f known_hosts_file]\n"
	    "       fssh-keygen -I certificate_identity -s ca_key [-h] "
	    "[-n principals]\n"
	    "                   [-O option] [-V validity_interval] "
	    "[-z serial_number] file ...\n"
	    "       fssh-keygen -L [-f input_keyfile]\n"
	    "       fssh-keygen -A [-a rounds] [-f prefix_path]\n");
	exit(KG_EXIT_USAGE);
}

static void __attribute__((noreturn))
kg_not_yet(int ch)
{
	size_t i;

	for (i = 0; i < sizeof(kg_later) / sizeof(kg_later[0]); i++) {
		if (kg_later[i].ch == ch) {
			fprintf(stderr, "%s: option -%c (%s) is not supported "
			    "yet\n", prog_name(), ch, kg_later[i].what);
			kg_usage();
		}
	}
	kg_usage();
}

/*
 * Read one line; NULL at end of input with nothing read (*eofp set), or
 * with *eofp clear when a stop signal came at tty's prompt (ask again).
 */
static char *
kg_read_line(struct prog_tty *tty, int fd, int *eofp)
{
	char *s;
	size_t len = 0;
	ssize_t n;
	char c;
	int t;

	*eofp = 0;
	if ((s = malloc(KG_PASS_MAX + 1)) == NULL)
		fatal("out of memory");
	for (;;) {
		/* 1: continued after a stop, ask again; -1: give up. */
		if (tty != NULL && (t = prog_tty_check(tty)) != 0) {
			misc_freezero(s, KG_PASS_MAX + 1);
			*eofp = t == -1;
			return NULL;
		}
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*eofp = 1;
			break;
		}
		if (c == '\n')
			break;
		if (c == '\r')
			continue;
		if (len < KG_PASS_MAX)
			s[len++] = c;
	}
	s[len] = '\0';
	if (*eofp && len == 0) {
		misc_freezero(s, KG_PASS_MAX + 1);
		return NULL;
	}
	return s;
}

/* Best effort: a prompt that cannot be shown is no reason to stop. */
static void
kg_write(int fd, const char *s)
{
	ssize_t n;

	n = write(fd, s, strlen(s));
	(void)n;
}

/*
 * Ask for a passphrase: on the terminal with echo off, or, when standard
 * input is not a terminal, from standard input with the prompt on
 * standard error (ssh-keygen's RP_ALLOW_STDIN).  End of input is "".
 */
static char *
kg_read_passphrase(const char *prompt)
{
	struct prog_tty tty;
	char *s;
	int fd, eof, own = 0, outfd;

	if (!isatty(STDIN_FILENO)) {
		fd = STDIN_FILENO;
		outfd = STDERR_FILENO;
	} else if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) != -1) {
		own = 1;
		outfd = fd;
	} else {
		fd = STDIN_FILENO;
		outfd = STDERR_FILENO;
	}
	/* A signal at the prompt finds echo restored (prog-tty.h). */
	(void)prog_tty_noecho(&tty, fd);
	do {
		kg_write(outfd, prompt);
		s = kg_read_line(&tty, fd, &eof);
	} while (s == NULL && !eof);
	if (tty.echo_off)
		kg_write(outfd, "\n");
	prog_tty_restore(&tty);
	if (own)
		close(fd);
	if (s == NULL && (s = strdup("")) == NULL)
		fatal("out of memory");
	return s;
}

static void
kg_free_pass(char *s)
{
	if (s != NULL)
		misc_freezero(s, strlen(s));
}

static void
kg_set_path(const char *path)
{
	if (misc_strlcpy(kg.path, path, sizeof(kg.path)) >= sizeof(kg.path))
		fatal("Identity filename too long");
	kg.have_path = 1;
}

static const char *
kg_default_file(void)
{
	size_t i;
	const char *t = kg.type != NULL ? kg.type : "rsa";

	for (i = 0; i < sizeof(kg_types) / sizeof(kg_types[0]); i++)
		if (strcasecmp(kg_types[i].name, t) == 0)
			return kg_types[i].file;
	return "id_rsa";
}

/* ssh-keygen's ask_filename: prompt on stdout, default on empty input. */
static void
kg_ask_filename(const char *prompt)
{
	char def[KG_PATH_MAX];
	char *line;
	int eof;

	if ((size_t)snprintf(def, sizeof(def), "%s/.ssh/%s", kg.pw->pw_dir,
	    kg_default_file()) >= sizeof(def))
		fatal("Identity filename too long");
	printf("%s (%s): ", prompt, def);
	fflush(stdout);
	if ((line = kg_read_line(NULL, STDIN_FILENO, &eof)) == NULL)
		exit(KG_EXIT_USAGE);
	kg_set_path(*line != '\0' ? line : def);
	free(line);
}

static void
kg_need_path(const char *prompt)
{
	struct stat st;

	if (!kg.have_path)
		kg_ask_filename(prompt);
	if (stat(kg.path, &st) == -1)
		fatal("%s: %s", kg.path, strerror(errno));
}

/*
 * Refuse private key files others may read, as OpenSSH does: the key
 * might have been seen by someone else.
 */
static int
kg_perm_ok(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return 1;	/* the read reports the error */
	if (st.st_uid != getuid() || (st.st_mode & 077) == 0)
		return 1;
	fprintf(stderr,
	    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
	    "@         WARNING: UNPROTECTED PRIVATE KEY FILE!          @\n"
	    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
	    "Permissions 0%3.3o for '%s' are too open.\n"
	    "It is required that your private key files are NOT accessible "
	    "by others.\n"
	    "This private key will be ignored.\n",
	    (unsigned int)(st.st_mode & 0777), path);
	return 0;
}

static void __attribute__((noreturn))
kg_fatal_load(const char *what, const char *path, int r)
{
	if (r == FERR_SYSTEM)
		fatal("%s \"%s\": %s", what, path, strerror(errno));
	fatal("%s \"%s\": %s", what, path, err_str(r));
}

/*
 * Load a private key: first without a passphrase, then with -P (or
 * -N when alt is set) or one asked for.  On failure return the error
 * and leave *keyp NULL; *passp gets the passphrase that worked.
 */
static int
kg_try_private(const char *path, int use_new, char **passp,
    struct key **keyp)
{
	struct buf *file = NULL;
	char *pass = NULL;
	int r;

	*keyp = NULL;
	if (passp != NULL)
		*passp = NULL;
	if (!kg_perm_ok(path)) {
		errno = EACCES;
		return FERR_PERMISSION;
	}
	if ((r = key_read_file(path, 0, &file)) != 0)
		return r;
	if ((r = key_parse_private(file, "", keyp)) ==
	    FERR_KEY_WRONG_PASSPHRASE) {
		if (kg.old_pass != NULL)
			pass = strdup(kg.old_pass);
		else if (use_new && kg.new_pass != NULL)
			pass = strdup(kg.new_pass);
		else
			pass = kg_read_passphrase("Enter passphrase: ");
		if (pass == NULL)
			fatal("out of memory");
		r = key_parse_private(file, pass, keyp);
	}
	buf_free(file);
	if (r == 0 && passp != NULL && (*passp = strdup(pass != NULL ?
	    pass : "")) == NULL)
		fatal("out of memory");
	kg_free_pass(pass);
	return r;
}

static struct key *
kg_load_identity(const char *what, const char *path, int use_new,
    char **passp)
{
	struct key *k;
	int r;

	if ((r = kg_try_private(path, use_new, passp, &k)) != 0) {
		if (r == FERR_PERMISSION)
			fatal("%s \"%s\": bad permissions", what, path);
		kg_fatal_load(what, path, r);
	}
	return k;
}

/* Write the key's public line (and a newline) to path with mode 0644. */
static int
kg_save_public(const struct key *k, const char *path)
{
	struct buf *b;
	int r;

	if ((b = buf_new()) == NULL)
		return FERR_ALLOC;
	if ((r = key_format_public_line(k, b)) == 0 &&
	    (r = buf_put_u8(b, '\n')) == 0)
		r = key_write_file(path, b, 0644);
	buf_free(b);
	return r;
}

static int
kg_save_private(const struct key *k, const char *path, const char *pass)
{
	struct buf *b;
	int r;

	if ((b = buf_new()) == NULL)
		return FERR_ALLOC;
	buf_set_secret(b);
	if ((r = key_write_private(k, pass, kg.cipher, kg.rounds, b)) == 0)
		r = key_write_file(path, b, 0600);
	buf_free(b);
	return r;
}

static void
kg_print_line(const struct key *k)
{
	struct buf *b;
	char *s;
	int r;

	if ((b = buf_new()) == NULL)
		fatal("out of memory");
	if ((r = key_format_public_line(k, b)) != 0)
		fatal_r(r, "format public key");
	if ((s = buf_dup_string(b)) == NULL)
		fatal("out of memory");
	printf("%s\n", s);
	free(s);
	buf_free(b);
}

/*
 * The first key line of a public key file: blank lines and # comments
 * are skipped; a missing comment becomes the file name, as ssh-keygen's
 * loader does.
 */
static int
kg_load_public_file(const char *path, struct key **keyp)
{
	struct buf *file = NULL;
	char *text = NULL, *line, *next;
	int r = FERR_FORMAT;

	*keyp = NULL;
	if ((r = key_read_file(path, 0, &file)) != 0)
		return r;
	if ((text = buf_dup_string(file)) == NULL) {
		r = FERR_FORMAT;
		goto out;
	}
	r = FERR_FORMAT;
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line += strspn(line, " \t");
		if (*line == '#' || *line == '\0' || *line == '\r')
			continue;
		if ((r = key_parse_public_line(line, keyp)) != 0)
			continue;
		if (*key_comment(*keyp) == '\0' &&
		    (r = key_set_comment(*keyp, path)) != 0) {
			key_free(*keyp);
			*keyp = NULL;
		}
		break;
	}
 out:
	/* The file may have been a private key. */
	if (text != NULL)
		misc_freezero(text, strlen(text));
	buf_free(file);
	return r;
}

/* ssh-keygen's sshkey_load_public: FILE, FILE.pub, the private file. */
static int
kg_load_public(const char *path, struct key **keyp)
{
	char pub[KG_PATH_MAX + 8];
	struct buf *file = NULL;
	int r;

	if (kg_load_public_file(path, keyp) == 0)
		return 0;
	snprintf(pub, sizeof(pub), "%s.pub", path);
	if (kg_load_public_file(pub, keyp) == 0)
		return 0;
	if ((r = key_read_file(path, 0, &file)) != 0)
		return r;
	r = key_parse_private_public(file, keyp);
	buf_free(file);
	return r;
}

static void
kg_print_fingerprint(const struct key *k, const char *comment)
{
	char *fp = NULL, *art = NULL;
	int r;

	if ((r = key_fingerprint(k, kg.fp_hash, &fp)) != 0 ||
	    (r = key_randomart(k, kg.fp_hash, &art)) != 0)
		fatal_r(r, "fingerprint");
	printf("%u %s %s (%s)\n", key_bits(k), fp,
	    comment != NULL ? comment : "no comment",
	    key_type_short(key_get_type(k)));
	if (kg.verbose)
		printf("%s\n", art);
	free(fp);
	free(art);
}

/* The private key with no passphrase, for its comment; errors quiet. */
static int
kg_try_private_quiet(const char *path, struct key **keyp)
{
	struct buf *file = NULL;
	int r;

	*keyp = NULL;
	if (!kg_perm_ok(path))
		return FERR_PERMISSION;
	if ((r = key_read_file(path, 0, &file)) != 0)
		return r;
	r = key_parse_private(file, NULL, keyp);
	buf_free(file);
	return r;
}

static void
kg_fingerprint_private(const char *path)
{
	struct key *pub = NULL, *priv = NULL;
	char *comment = NULL;

	if (kg_load_public(path, &pub) == 0 && *key_comment(pub) != '\0') {
		comment = strdup(key_comment(pub));
	} else if (kg_try_private_quiet(path, &priv) == 0) {
		comment = strdup(key_comment(priv));
	}
	if (pub == NULL && priv == NULL)
		fatal("%s is not a key file.", path);
	kg_print_fingerprint(pub != NULL ? pub : priv, comment);
	free(comment);
	key_free(pub);
	key_free(priv);
}

/*
 * Skip a leading word of a key line (authorized_keys options or
 * known_hosts host names, quotes respected) and return what follows, or
 * NULL when nothing does.
 */
static char *
kg_skip_word(char *cp)
{
	int quoted = 0;

	for (; *cp != '\0' && (quoted || (*cp != ' ' && *cp != '\t')); cp++) {
		if (*cp == '\\' && cp[1] == '"')
			cp++;
		else if (*cp == '"')
			quoted = !quoted;
	}
	if (*cp == '\0')
		return NULL;
	*cp++ = '\0';
	return cp;
}

/*
 * -l: a private key file is fingerprinted through its public key;
 * anything else is read as lines of public keys, which may carry
 * authorized_keys options or known_hosts host names in front.
 */
static void __attribute__((noreturn))
kg_do_fingerprint(void)
{
	struct buf *file = NULL;
	struct key *k;
	char *text, *line, *next, *rest, *label;
	const char *path = kg.path;
	size_t textlen;
	int r, lnum = 0, found = 0;

	if (!kg.have_path)
		kg_ask_filename("Enter file in which the key is");
	if (strcmp(kg.path, "-") == 0) {
		path = "(stdin)";
		r = key_read_file("/dev/stdin", 0, &file);
	} else
		r = key_read_file(kg.path, 0, &file);
	if (r != 0) {
		if (r == FERR_SYSTEM)
			fatal("%s: %s: %s", prog_name(), path, strerror(errno));
		fatal_r(r, "%s", path);
	}
	if ((text = buf_dup_string(file)) == NULL)
		fatal("%s is not a public key file.", path);
	textlen = strlen(text);
	buf_free(file);
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		lnum++;
		line[strcspn(line, "\r")] = '\0';
		line += strspn(line, " \t");
		if (*line == '#' || *line == '\0')
			continue;
		if (lnum == 1 && strcmp(kg.path, "-") != 0 &&
		    strstr(line, "PRIVATE KEY") != NULL) {
			misc_freezero(text, textlen);
			kg_fingerprint_private(kg.path);
			exit(0);
		}
		label = NULL;
		if (key_parse_public_line(line, &k) != 0) {
			/* A leading word that is not a number: skip it. */
			label = line;
			if ((rest = kg_skip_word(line)) == NULL ||
			    key_parse_public_line(rest, &k) != 0) {
				/* ssh-keygen's debug1 line, CRLF and all. */
				if (kg.verbose)
					fprintf(stderr, "debug1: %s:%d: not a "
					    "public key\r\n", path, lnum);
				continue;
			}
		}
		if (*key_comment(k) != '\0' && key_comment(k)[0] != '#')
			label = (char *)key_comment(k);
		kg_print_fingerprint(k, label);
		key_free(k);
		found = 1;
	}
	misc_freezero(text, textlen);
	if (!found)
		fatal("%s is not a public key file.", path);
	exit(0);
}

/* -y: the public key line of a private key file, with its comment. */
static void __attribute__((noreturn))
kg_do_print_public(void)
{
	struct key *k;

	kg_need_path("Enter file in which the key is");
	k = kg_load_identity("Load key", kg.path, 0, NULL);
	kg_print_line(k);
	key_free(k);
	exit(0);
}

/* -p: rewrite the private key file under a new passphrase. */
static void __attribute__((noreturn))
kg_do_change_passphrase(void)
{
	struct key *k;
	char *p1, *p2;
	int r;

	kg_need_path("Enter file in which the key is");
	if ((r = kg_try_private(kg.path, 0, NULL, &k)) != 0) {
		if (r == FERR_PERMISSION)
			fatal("Failed to load key %s: bad permissions",
			    kg.path);
		if (r == FERR_SYSTEM)
			fatal("Failed to load key %s: %s", kg.path,
			    strerror(errno));
		fatal_r(r, "Failed to load key %s", kg.path);
	}
	if (*key_comment(k) != '\0')
		printf("Key has comment '%s'\n", key_comment(k));
	if (kg.new_pass != NULL) {
		if ((p1 = strdup(kg.new_pass)) == NULL)
			fatal("out of memory");
	} else {
		p1 = kg_read_passphrase("Enter new passphrase (empty for no "
		    "passphrase): ");
		p2 = kg_read_passphrase("Enter same passphrase again: ");
		if (strcmp(p1, p2) != 0) {
			kg_free_pass(p1);
			kg_free_pass(p2);
			printf("Pass phrases do not match.  Try again.\n");
			exit(1);
		}
		kg_free_pass(p2);
	}
	if ((r = kg_save_private(k, kg.path, p1)) != 0) {
		log_error("Saving key \"%s\" failed: %s", kg.path,
		    r == FERR_SYSTEM ? strerror(errno) : err_str(r));
		kg_free_pass(p1);
		key_free(k);
		exit(1);
	}
	kg_free_pass(p1);
	key_free(k);
	printf("Your identification has been saved with the new "
	    "passphrase.\n");
	exit(0);
}

/* -c: rewrite the private key file and its .pub with a new comment. */
static void __attribute__((noreturn))
kg_do_change_comment(void)
{
	char pub[KG_PATH_MAX + 8], *pass = NULL, *line = NULL;
	const char *nc;
	struct key *k;
	int r, eof;

	kg_need_path("Enter file in which the key is");
	k = kg_load_identity("Cannot load private key", kg.path, 1, &pass);
	if (*key_comment(k) != '\0')
		printf("Old comment: %s\n", key_comment(k));
	else
		printf("No existing comment\n");
	if (kg.comment != NULL)
		nc = kg.comment;
	else {
		printf("New comment: ");
		fflush(stdout);
		if ((line = kg_read_line(NULL, STDIN_FILENO, &eof)) == NULL) {
			kg_free_pass(pass);
			key_free(k);
			exit(1);
		}
		nc = line;
	}
	if (*key_comment(k) != '\0' && strcmp(key_comment(k), nc) == 0) {
		printf("No change to comment\n");
		kg_free_pass(pass);
		key_free(k);
		free(line);
		exit(0);
	}
	if ((r = key_set_comment(k, nc)) != 0)
		fatal_r(r, "comment");
	if ((r = kg_save_private(k, kg.path, pass)) != 0) {
		log_error("Saving key \"%s\" failed: %s", kg.path,
		    r == FERR_SYSTEM ? strerror(errno) : err_str(r));
		kg_free_pass(pass);
		key_free(k);
		exit(1);
	}
	kg_free_pass(pass);
	snprintf(pub, sizeof(pub), "%s.pub", kg.path);
	if ((r = kg_save_public(k, pub)) != 0)
		fatal("Unable to save public key to %s: %s", pub,
		    r == FERR_SYSTEM ? strerror(errno) : err_str(r));
	if (*nc != '\0')
		printf("Comment '%s' applied\n", nc);
	else
		printf("Comment removed\n");
	key_free(k);
	free(line);
	exit(0);
}

static const char *
kg_hostname(void)
{
	static char host[256];

	if (gethostname(host, sizeof(host)) != 0)
		misc_strlcpy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	return host;
}

/* -e: the public key as an RFC 4716 block on standard output. */
static void __attribute__((noreturn))
kg_do_export(void)
{
	struct key *k = NULL;
	struct buf *b;
	char hdr[512];
	int r;

	kg_need_path("Enter file in which the key is");
	if (kg_load_public(kg.path, &k) != 0)
		k = kg_load_identity("Load key", kg.path, 0, NULL);
	snprintf(hdr, sizeof(hdr), "%u-bit %s, converted by %s@%s from "
	    "OpenSSH", key_bits(k), key_type_short(key_get_type(k)),
	    kg.pw->pw_name, kg_hostname());
	if ((b = buf_new()) == NULL)
		fatal("out of memory");
	/* As ssh-keygen: PEM and PKCS#8 only for RSA and ECDSA keys. */
	if (kg.format != KG_FMT_RFC4716 && key_get_type(k) == KEY_ED25519)
		fatal("unsupported key type %s",
		    key_type_short(key_get_type(k)));
	switch (kg.format) {
	case KG_FMT_PKCS8:
		r = key_export_pem_public(k, 0, b);
		break;
	case KG_FMT_PEM:
		r = key_export_pem_public(k, key_get_type(k) == KEY_RSA, b);
		break;
	case KG_FMT_RFC4716:
	default:
		r = key_export_rfc4716(k, hdr, b);
		break;
	}
	if (r != 0)
		fatal_r(r, "export");
	if (fwrite(buf_ptr(b), 1, buf_len(b), stdout) != buf_len(b))
		fatal("write: %s", strerror(errno));
	buf_free(b);
	key_free(k);
	exit(0);
}

/* -i: an RFC 4716 public key file as an OpenSSH public key line. */
static void __attribute__((noreturn))
kg_do_import(void)
{
	struct buf *file = NULL;
	struct key *k = NULL;
	const char *label;
	int r;

	kg_need_path("Enter file in which the key is");
	if ((r = key_read_file(kg.path, 0, &file)) != 0) {
		if (r == FERR_SYSTEM)
			fatal("%s: %s", kg.path, strerror(errno));
		fatal_r(r, "%s", kg.path);
	}
	switch (kg.format) {
	case KG_FMT_PKCS8:
		label = "-----BEGIN PUBLIC KEY-----";
		break;
	case KG_FMT_PEM:
		label = "-----BEGIN RSA PUBLIC KEY-----";
		break;
	case KG_FMT_RFC4716:
	default:
		label = NULL;
		break;
	}
	if (label == NULL)
		r = key_import_rfc4716(file, &k);
	else if (memmem(buf_ptr(file), buf_len(file), label,
	    strlen(label)) == NULL)
		r = FERR_FORMAT;
	else
		r = key_import_pem_public(file, &k);
	if (r == 0 && label != NULL && key_get_type(k) == KEY_ED25519)
		r = FERR_KEY_TYPE_UNKNOWN;
	if (r != 0)
		fatal_r(r, "%s is not a recognised public key format", kg.path);
	/* As ssh-keygen: the converted key carries no comment. */
	if ((r = key_set_comment(k, NULL)) != 0)
		fatal_r(r, "comment");
	kg_print_line(k);
	key_free(k);
	buf_free(file);
	exit(0);
}

static unsigned int
kg_ec_bits(enum key_type type)
{
	switch (type) {
	case KEY_ECDSA_P256:
		return 256;
	case KEY_ECDSA_P384:
		return 384;
	case KEY_ECDSA_P521:
		return 521;
	default:
		return 0;
	}
}

/* The key type to generate, from -t and -b. */
static enum key_type
kg_gen_type(unsigned int *bitsp, const char **tnamep)
{
	const char *t = kg.type != NULL ? kg.type : "rsa";
	enum key_type type = KEY_UNSPEC;
	size_t i;
	unsigned int bits = kg.bits;

	for (i = 0; i < sizeof(kg_types) / sizeof(kg_types[0]); i++)
		if (strcasecmp(kg_types[i].name, t) == 0)
			break;
	if (i == sizeof(kg_types) / sizeof(kg_types[0]))
		fatal("unknown key type %s", t);
	type = kg_types[i].type;
	if (type == KEY_UNSPEC) {
		switch (bits) {
		case 0:
		case 256:
			type = KEY_ECDSA_P256;
			break;
		case 384:
			type = KEY_ECDSA_P384;
			break;
		case 521:
			type = KEY_ECDSA_P521;
			break;
		default:
			fatal("Invalid ECDSA key length: valid lengths are "
			    "256, 384 or 521 bits");
		}
		bits = 0;
	} else if (type == KEY_RSA) {
		if (bits == 0)
			bits = KEY_RSA_DEFAULT_BITS;
		if (bits < KEY_RSA_MIN_GEN_BITS)
			fatal("Invalid RSA key length: minimum is %d bits",
			    KEY_RSA_MIN_GEN_BITS);
		if (bits > KEY_RSA_MAX_BITS)
			fatal("Invalid RSA key length: maximum is %d bits",
			    KEY_RSA_MAX_BITS);
	} else if (type == KEY_ECDSA_P256 || type == KEY_ECDSA_P384 ||
	    type == KEY_ECDSA_P521) {
		if (bits != 0 && bits != kg_ec_bits(type))
			fatal("Invalid ECDSA key length: valid lengths are "
			    "256, 384 or 521 bits");
		bits = 0;
	} else
		bits = 0;	/* ed25519: -b is ignored, as ssh-keygen does */
	*bitsp = bits;
	/* ssh-keygen names the type as sshkey_type() lowercased. */
	*tnamep = type == KEY_RSA ? "rsa" : type == KEY_ED25519 ?
	    "ed25519" : "ecdsa";
	return type;
}

/* Create ~/.ssh when the default file lives there, as ssh-keygen does. */
static void
kg_make_ssh_dir(void)
{
	char dir[KG_PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/.ssh", kg.pw->pw_dir) >=
	    sizeof(dir) || strncmp(kg.path, dir, strlen(dir)) != 0)
		return;
	if (stat(dir, &st) == 0 || errno != ENOENT)
		return;
	if (mkdir(dir, 0700) == -1)
		log_error("Could not create directory '%s': %s", dir,
		    strerror(errno));
	else if (!kg.quiet)
		printf("Created directory '%s'.\n", dir);
}

static void __attribute__((noreturn))
kg_do_generate(void)
{
	char pub[KG_PATH_MAX + 8], comment[1024], *p1, *p2, *line;
	char *fp = NULL, *art = NULL;
	const char *tname;
	struct key *k = NULL;
	enum key_type type;
	unsigned int bits;
	struct stat st;
	int r, eof;

	type = kg_gen_type(&bits, &tname);
	if (!kg.quiet)
		printf("Generating public/private %s key pair.\n", tname);
	if ((r = key_generate(type, bits, &k)) != 0)
		fatal_r(r, "key generation failed");
	if (!kg.have_path) {
		kg_ask_filename("Enter file in which to save the key");
		kg_make_ssh_dir();
	}
	snprintf(pub, sizeof(pub), "%s.pub", kg.path);
	if (stat(kg.path, &st) == 0) {
		printf("%s already exists.\n", kg.path);
		printf("Overwrite (y/n)? ");
		fflush(stdout);
		line = kg_read_line(NULL, STDIN_FILENO, &eof);
		if (line == NULL || (line[0] != 'y' && line[0] != 'Y')) {
			free(line);
			key_free(k);
			exit(1);
		}
		free(line);
	}
	if (kg.new_pass != NULL) {
		if ((p1 = strdup(kg.new_pass)) == NULL)
			fatal("out of memory");
	} else {
		for (;;) {
			p1 = kg_read_passphrase("Enter passphrase (empty for "
			    "no passphrase): ");
			p2 = kg_read_passphrase("Enter same passphrase "
			    "again: ");
			if (strcmp(p1, p2) == 0) {
				kg_free_pass(p2);
				break;
			}
			kg_free_pass(p1);
			kg_free_pass(p2);
			printf("Passphrases do not match.  Try again.\n");
		}
	}
	if (kg.comment != NULL)
		misc_strlcpy(comment, kg.comment, sizeof(comment));
	else
		snprintf(comment, sizeof(comment), "%s@%s", kg.pw->pw_name,
		    kg_hostname());
	if ((r = key_set_comment(k, comment)) != 0)
		fatal_r(r, "comment");
	if ((r = kg_save_private(k, kg.path, p1)) != 0) {
		log_error("Saving key \"%s\" failed: %s", kg.path,
		    r == FERR_SYSTEM ? strerror(errno) : err_str(r));
		kg_free_pass(p1);
		key_free(k);
		exit(1);
	}
	kg_free_pass(p1);
	if (!kg.quiet)
		printf("Your identification has been saved in %s\n", kg.path);
	if ((r = kg_save_public(k, pub)) != 0)
		fatal("Unable to save public key to %s: %s", pub,
		    r == FERR_SYSTEM ? strerror(errno) : err_str(r));
	if (!kg.quiet) {
		if ((r = key_fingerprint(k, kg.fp_hash, &fp)) != 0 ||
		    (r = key_randomart(k, kg.fp_hash, &art)) != 0)
			fatal_r(r, "fingerprint");
		printf("Your public key has been saved in %s\n", pub);
		printf("The key fingerprint is:\n");
		printf("%s %s\n", fp, comment);
		printf("The key's randomart image is:\n");
		printf("%s\n", art);
		free(fp);
		free(art);
	}
	key_free(k);
	exit(0);
}

/*
 * -A: the host keys sshd uses by default, in the order and with the
 * names ssh-keygen -A uses.  The -f argument is a prefix put in front
 * of each path as it is (no separator added), as ssh-keygen does.
 */
static const struct {
	enum key_type type;
	const char *display;
	const char *path;
} kg_host_keys[] = {
	{ KEY_RSA, "RSA", "/etc/ssh/ssh_host_rsa_key" },
	{ KEY_ECDSA_P256, "ECDSA", "/etc/ssh/ssh_host_ecdsa_key" },
	{ KEY_ED25519, "ED25519", "/etc/ssh/ssh_host_ed25519_key" },
};

/*
 * Generate one host key into prv (and prv.pub); 0 or -1 after the
 * error has been reported.  Each file is written to a temporary name
 * and renamed into place, the public key first: once the private key
 * exists under its name, both are complete.
 */
static int
kg_host_key_one(enum key_type type, const char *prv, const char *comment)
{
	char pub[KG_PATH_MAX + 8];
	struct key *k = NULL;
	int r, ret = -1;

	if ((size_t)snprintf(pub, sizeof(pub), "%s.pub", prv) >= sizeof(pub)) {
		fprintf(stderr, "Could not save your public key in %s: %s\r\n",
		    prv, strerror(ENAMETOOLONG));
		return -1;
	}
	if ((r = key_generate(type, 0, &k)) != 0) {
		fprintf(stderr, "sshkey_generate failed: %s\r\n", err_str(r));
		goto out;
	}
	if ((r = key_set_comment(k, comment)) != 0) {
		fprintf(stderr, "comment: %s\r\n", err_str(r));
		goto out;
	}
	if ((r = kg_save_public(k, pub)) != 0) {
		fprintf(stderr, "Could not save your public key in %s: %s\r\n",
		    pub, r == FERR_SYSTEM ? strerror(errno) : err_str(r));
		goto out;
	}
	if ((r = kg_save_private(k, prv, "")) != 0) {
		fprintf(stderr, "Could not save your private key in %s: "
		    "%s\r\n", prv, r == FERR_SYSTEM ? strerror(errno) :
		    err_str(r));
		goto out;
	}
	ret = 0;
 out:
	key_free(k);
	return ret;
}

/*
 * ssh-keygen -A: create each missing (or empty) host key without a
 * passphrase, with the comment user@host.  Progress goes to standard
 * output as "NAME: generating new host keys: RSA ECDSA ED25519 \n"; after
 * a failure (reported on stderr) the next key starts that text again
 * (no newline between), and as ssh-keygen the exit status is still 0.
 */
static void __attribute__((noreturn))
kg_do_host_keys(void)
{
	char prv[KG_PATH_MAX + 64], comment[1024];
	const char *prefix = kg.have_path ? kg.path : "";
	struct stat st;
	size_t i;
	int first = 1;

	snprintf(comment, sizeof(comment), "%s@%s", kg.pw->pw_name,
	    kg_hostname());
	for (i = 0; i < sizeof(kg_host_keys) / sizeof(kg_host_keys[0]); i++) {
		if ((size_t)snprintf(prv, sizeof(prv), "%s%s", prefix,
		    kg_host_keys[i].path) >= sizeof(prv))
			fatal("Identity filename too long");
		if (stat(prv, &st) == 0) {
			if (st.st_size != 0)
				continue;
		} else if (errno != ENOENT) {
			fprintf(stderr, "Could not stat %s: %s\r\n",
			    kg_host_keys[i].path, strerror(errno));
			continue;
		}
		if (first) {
			printf("%s: generating new host keys: ", prog_name());
			first = 0;
		}
		printf("%s ", kg_host_keys[i].display);
		fflush(stdout);
		if (kg_host_key_one(kg_host_keys[i].type, prv, comment) != 0)
			first = 1;
	}
	if (!first)
		printf("\n");
	exit(0);
}

/*
 * known_hosts upkeep (-F find, -R remove, -H hash), with ssh-keygen's
 * output: "# Host NAME found: line N [CA|REVOKED]" before each line
 * found, "FILE updated." and a FILE.old backup after a rewrite, and a
 * refusal to rewrite a file with invalid lines (exit 1).  Its log
 * messages end in CR LF on stderr, and so do ours.
 */
struct kg_kh {
	const char *path;
	struct buf *out;	/* -R/-H: the new file; -F: what to print */
	int invalid;
	unsigned long found;
	unsigned long hashed;
};

static void
kg_kh_put(struct buf *b, const char *s)
{
	int r;

	if ((r = buf_putf(b, "%s\n", s)) != 0)
		fatal_r(r, "buffer");
}

/*
 * Append the hashed form of an entry: one line per name of its hosts
 * field with the rest of the line unchanged.  Lines already hashed, with
 * wildcards or negations, and marker lines are kept as they are.
 */
static void
kg_kh_hash_entry(struct kg_kh *c, const char *raw, unsigned long lineno,
    const struct knownhosts_entry *ent)
{
	const char *rest, *p, *e;
	char *name, *q;
	int r, wild = strpbrk(ent->hosts, "*?!") != NULL;

	if (ent->hashed || wild || ent->marker != KNOWNHOSTS_MARKER_NONE) {
		kg_kh_put(c->out, raw);
		/* Shown even with -q, as ssh-keygen does. */
		if (wild && kg.kh_mode != KG_KH_FIND)
			fprintf(stderr, "%s:%lu: ignoring host name with "
			    "wildcard: %s\r\n", c->path, lineno, ent->hosts);
		return;
	}
	rest = raw + strspn(raw, " \t");
	rest += strcspn(rest, " \t");
	rest += strspn(rest, " \t");
	for (p = ent->hosts; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = p + strcspn(p, ",");
		if (e == p)
			continue;
		if ((name = strndup(p, (size_t)(e - p))) == NULL)
			fatal("out of memory");
		/* Like ssh-keygen, hash the lowercased name. */
		for (q = name; *q != '\0'; q++)
			*q = (char)tolower((unsigned char)*q);
		if ((r = knownhosts_hash_name(name, NULL, c->out)) != 0 ||
		    (r = buf_putf(c->out, " %s\n", rest)) != 0)
			fatal_r(r, "hashing %s", name);
		free(name);
	}
	c->hashed++;
}

static void
kg_kh_print_fp(const struct knownhosts_entry *ent, const char *raw)
{
	char *fp = NULL, *art = NULL;
	int r;

	if (ent->key == NULL) {
		printf("%s\n", raw);
		return;
	}
	if ((r = key_fingerprint(ent->key, kg.fp_hash, &fp)) != 0 ||
	    (r = key_randomart(ent->key, kg.fp_hash, &art)) != 0)
		fatal_r(r, "fingerprint");
	printf("%s %s %s%s%s\n", kg.kh_host, key_type_short(
	    key_get_type(ent->key)), fp, *ent->comment != '\0' ? " " : "",
	    ent->comment);
	if (kg.verbose)
		printf("%s\n", art);
	free(fp);
	free(art);
}

static const char *
kg_kh_marker_name(enum knownhosts_marker m)
{
	switch (m) {
	case KNOWNHOSTS_MARKER_CA:
		return "CA";
	case KNOWNHOSTS_MARKER_REVOKED:
		return "REVOKED";
	case KNOWNHOSTS_MARKER_NONE:
	default:
		return "";
	}
}

static int
kg_kh_cb(const char *raw, unsigned long lineno,
    enum knownhosts_line_kind kind, const struct knownhosts_entry *ent,
    void *ctx)
{
	struct kg_kh *c = ctx;

	if (kind == KNOWNHOSTS_LINE_INVALID && kg.kh_mode != KG_KH_FIND) {
		c->invalid = 1;
		fprintf(stderr, "%s:%lu: invalid line\r\n", c->path, lineno);
	}
	if (kind != KNOWNHOSTS_LINE_ENTRY) {
		if (kg.kh_mode != KG_KH_FIND)
			kg_kh_put(c->out, raw);
		return 0;
	}
	if (kg.kh_mode == KG_KH_HASH) {
		kg_kh_hash_entry(c, raw, lineno, ent);
		return 0;
	}
	if (!knownhosts_entry_matches(ent, kg.kh_host) ||
	    (kg.kh_mode == KG_KH_REMOVE &&
	    ent->marker != KNOWNHOSTS_MARKER_NONE)) {
		/* CA and revocation lines are never removed. */
		if (kg.kh_mode == KG_KH_REMOVE)
			kg_kh_put(c->out, raw);
		return 0;
	}
	c->found++;
	if (kg.kh_mode == KG_KH_REMOVE) {
		if (!kg.quiet)
			printf("# Host %s found: line %lu\n", kg.kh_host,
			    lineno);
		return 0;
	}
	if (!kg.quiet)
		printf("# Host %s found: line %lu %s\n", kg.kh_host, lineno,
		    kg_kh_marker_name(ent->marker));
	if (kg.hash_hosts) {
		buf_reset(c->out);
		kg_kh_hash_entry(c, raw, lineno, ent);
		fwrite(buf_ptr(c->out), 1, buf_len(c->out), stdout);
	} else if (kg.mode == KG_FINGERPRINT)
		kg_kh_print_fp(ent, raw);
	else
		printf("%s\n", raw);
	return 0;
}

/* Keep the old file as PATH.old and put the new contents in place. */
static void
kg_kh_replace(const char *path, const struct buf *out, mode_t mode)
{
	char old[KG_PATH_MAX + 8];
	int r;

	if ((size_t)snprintf(old, sizeof(old), "%s.old", path) >= sizeof(old))
		fatal("known_hosts path too long");
	if (unlink(old) == -1 && errno != ENOENT)
		fatal("unlink %s: %s", old, strerror(errno));
	if (link(path, old) == -1)
		fatal("link %s to %s: %s", path, old, strerror(errno));
	if ((r = key_write_file(path, out, (unsigned int)(mode & 07777))) != 0)
		fatal("writing %s: %s", path, r == FERR_SYSTEM ?
		    strerror(errno) : err_str(r));
	printf("%s updated.\nOriginal contents retained as %s\n", path, old);
}

static void __attribute__((noreturn))
kg_do_known_hosts(void)
{
	struct kg_kh c;
	struct stat st;
	int r;

	memset(&c, 0, sizeof(c));
	if (!kg.have_path) {
		if ((size_t)snprintf(kg.path, sizeof(kg.path),
		    "%s/.ssh/known_hosts", kg.pw->pw_dir) >= sizeof(kg.path))
			fatal("known_hosts path too long");
	}
	c.path = kg.path;
	if (stat(c.path, &st) == -1)
		fatal("Cannot stat %s: %s", c.path, strerror(errno));
	if ((c.out = buf_new()) == NULL)
		fatal("out of memory");
	if ((r = knownhosts_foreach(c.path, kg_kh_cb, &c)) != 0)
		fatal("%s: %s", c.path, r == FERR_SYSTEM ? strerror(errno) :
		    err_str(r));
	fflush(stdout);
	if (kg.kh_mode == KG_KH_FIND)
		exit(c.found > 0 ? 0 : 1);
	if (c.invalid) {
		fprintf(stderr, "%s is not a valid known_hosts file.\r\n"
		    "Not replacing existing known_hosts file because of "
		    "errors\r\n", c.path);
		exit(1);
	}
	if (kg.kh_mode == KG_KH_REMOVE && c.found == 0) {
		fprintf(stderr, "Host %s not found in %s\r\n", kg.kh_host,
		    c.path);
		exit(0);
	}
	kg_kh_replace(c.path, c.out, st.st_mode);
	if (kg.kh_mode == KG_KH_HASH && c.hashed > 0)
		fprintf(stderr, "WARNING: %s.old contains unhashed entries\r\n"
		    "Delete this file to ensure privacy of hostnames\r\n",
		    c.path);
	buf_free(c.out);
	exit(0);
}

/*
 * Certificates: -s signs public keys with a CA key (-I key id, -n
 * principals, -V validity, -h host, -z serial, -O options), -L shows a
 * certificate.  Output, messages and exit statuses as ssh-keygen's.
 */

/* -O names that turn an extension off or on, as ssh-keygen's. */
static const struct {
	const char *opt;
	const char *ext;	/* extension name */
	int on;
} kg_cert_ext_opts[] = {
	{ "no-x11-forwarding", "permit-X11-forwarding", 0 },
	{ "permit-x11-forwarding", "permit-X11-forwarding", 1 },
	{ "no-agent-forwarding", "permit-agent-forwarding", 0 },
	{ "permit-agent-forwarding", "permit-agent-forwarding", 1 },
	{ "no-port-forwarding", "permit-port-forwarding", 0 },
	{ "permit-port-forwarding", "permit-port-forwarding", 1 },
	{ "no-pty", "permit-pty", 0 },
	{ "permit-pty", "permit-pty", 1 },
	{ "no-user-rc", "permit-user-rc", 0 },
	{ "permit-user-rc", "permit-user-rc", 1 },
};
#define KG_CERT_NEXT	5	/* distinct extensions above */

static const char *const kg_cert_ext_names[KG_CERT_NEXT] = {
	"permit-X11-forwarding", "permit-agent-forwarding",
	"permit-port-forwarding", "permit-pty", "permit-user-rc",
};

static int
kg_cert_ext_index(const char *ext)
{
	int i;

	for (i = 0; i < KG_CERT_NEXT; i++)
		if (strcmp(kg_cert_ext_names[i], ext) == 0)
			return i;
	return -1;
}

/* Apply one -O option to the certificate being made. */
static void
kg_cert_option(const char *opt)
{
	size_t i;

	if (strcasecmp(opt, "clear") == 0) {
		memset(kg.cert_ext, 0, sizeof(kg.cert_ext));
		kg.cert_ext_set = 1;
		return;
	}
	if (strncasecmp(opt, "force-command=", 14) == 0) {
		if (kg.cert_force_command != NULL)
			fatal("force-command already specified");
		kg.cert_force_command = opt + 14;
		return;
	}
	if (strncasecmp(opt, "source-address=", 15) == 0) {
		if (kg.cert_source_address != NULL)
			fatal("source-address already specified");
		if (authkeys_match_from(opt + 15, "127.0.0.1", NULL) < 0 &&
		    authkeys_match_from(opt + 15, "::2", NULL) < 0)
			fatal("Invalid source-address list");
		kg.cert_source_address = opt + 15;
		return;
	}
	for (i = 0; i < sizeof(kg_cert_ext_opts) /
	    sizeof(kg_cert_ext_opts[0]); i++) {
		if (strcasecmp(opt, kg_cert_ext_opts[i].opt) == 0) {
			if (!kg.cert_ext_set) {
				/* Start from the default: all permitted. */
				memset(kg.cert_ext, 1, sizeof(kg.cert_ext));
				kg.cert_ext_set = 1;
			}
			kg.cert_ext[kg_cert_ext_index(
			    kg_cert_ext_opts[i].ext)] = kg_cert_ext_opts[i].on;
			return;
		}
	}
	fatal("Unsupported certificate option \"%s\"", opt);
}

/* Seconds of a relative time "1w2d3h4m5s" (bare numbers: seconds). */
static int
kg_cert_reltime(const char *s, uint64_t *secsp)
{
	static const struct {
		char unit;
		uint64_t secs;
	} units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
		{ 'w', 604800 },
	};
	uint64_t total = 0, n, mul;
	size_t i;

	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			return -1;
		for (n = 0; isdigit((unsigned char)*s); s++) {
			if (n > (UINT32_MAX - 9) / 10)
				return -1;
			n = n * 10 + (uint64_t)(*s - '0');
		}
		mul = 1;
		if (*s != '\0') {
			for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
				if (tolower((unsigned char)*s) == units[i].unit)
					break;
			if (i == sizeof(units) / sizeof(units[0]))
				return -1;
			mul = units[i].secs;
			s++;
		}
		if (n > (UINT64_MAX - total) / mul)
			return -1;
		total += n * mul;
	}
	*secsp = total;
	return 0;
}

/* One end of a -V interval: relative, absolute, or the open word. */
static uint64_t
kg_cert_time(const char *s, const char *open, uint64_t openval,
    uint64_t now)
{
	uint64_t t;

	if (strcmp(s, open) == 0)
		return openval;
	if (*s == '+' || *s == '-') {
		if (kg_cert_reltime(s + 1, &t) != 0)
			fatal("Invalid relative certificate life %s", s);
		if (*s == '+')
			return t > UINT64_MAX - now ? UINT64_MAX : now + t;
		return t > now ? 0 : now - t;
	}
	if (authkeys_parse_time(s, &t) != 0)
		fatal("Invalid certificate time %s", s);
	return t;
}

/*
 * -V: "from:to", or "+interval" alone meaning from a minute before the
 * start of the current minute (as ssh-keygen) to now plus interval.
 */
static void
kg_cert_validity(const char *spec, uint64_t *fromp, uint64_t *top)
{
	uint64_t now = (uint64_t)time(NULL);
	char *from, *to;

	if (*spec == '+' && strchr(spec, ':') == NULL) {
		*fromp = now - now % 60 - 60;
		*top = kg_cert_time(spec, "forever", KEY_CERT_FOREVER, now);
	} else {
		if ((from = strdup(spec)) == NULL)
			fatal("out of memory");
		if ((to = strchr(from, ':')) == NULL || to == from ||
		    to[1] == '\0')
			fatal("Invalid certificate life specification %s",
			    spec);
		*to++ = '\0';
		*fromp = kg_cert_time(from, "always", 0, now);
		*top = kg_cert_time(to, "forever", KEY_CERT_FOREVER, now);
		free(from);
	}
	if (*top <= *fromp)
		fatal("Empty certificate validity interval");
}

/* A time as ssh-keygen prints it: local time, ISO 8601 without zone. */
static void
kg_cert_fmt_time(uint64_t t, char *out, size_t outlen)
{
	struct tm tm;
	time_t tt = t > (uint64_t)INT64_MAX ? (time_t)INT64_MAX : (time_t)t;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(out, outlen, "%llu", (unsigned long long)t);
}

/* "forever", "after X", "before Y" or "from X to Y". */
static void
kg_cert_fmt_validity(const struct key_cert *c, char *out, size_t outlen)
{
	char from[64], to[64];

	kg_cert_fmt_time(c->valid_after, from, sizeof(from));
	kg_cert_fmt_time(c->valid_before, to, sizeof(to));
	if (c->valid_after == 0 && c->valid_before == KEY_CERT_FOREVER)
		snprintf(out, outlen, "forever");
	else if (c->valid_after == 0)
		snprintf(out, outlen, "before %s", to);
	else if (c->valid_before == KEY_CERT_FOREVER)
		snprintf(out, outlen, "after %s", from);
	else
		snprintf(out, outlen, "from %s to %s", from, to);
}

/* The certificate's file: FILE.pub -> FILE-cert.pub. */
static void
kg_cert_path(const char *path, char *out, size_t outlen)
{
	size_t n = strlen(path);

	if (n >= 4 && strcmp(path + n - 4, ".pub") == 0)
		n -= 4;
	if ((size_t)snprintf(out, outlen, "%.*s-cert.pub", (int)n, path) >=
	    outlen)
		fatal("Certificate path too long");
}

static void __attribute__((noreturn))
kg_do_sign_certs(int argc, char **argv)
{
	struct key_cert_params p;
	struct key_cert *cert;
	struct key *ca, *k;
	const char *exts[KG_CERT_NEXT];
	char **principals = NULL, *plist = NULL, *tok, *next;
	char out[KG_PATH_MAX + 16], valid[160];
	struct buf *b;
	size_t np = 0;
	int i, r;

	if (kg.cert_key_id == NULL)
		fatal("Must specify key id (-I) when certifying");
	memset(&p, 0, sizeof(p));
	p.type = kg.cert_host ? KEY_CERT_HOST : KEY_CERT_USER;
	p.key_id = kg.cert_key_id;
	p.serial = kg.cert_serial;
	p.valid_after = 0;
	p.valid_before = KEY_CERT_FOREVER;
	if (kg.cert_validity != NULL)
		kg_cert_validity(kg.cert_validity, &p.valid_after,
		    &p.valid_before);
	if (kg.cert_principals != NULL) {
		if ((plist = strdup(kg.cert_principals)) == NULL ||
		    (principals = calloc(strlen(plist) + 1,
		    sizeof(*principals))) == NULL)
			fatal("out of memory");
		for (tok = plist; tok != NULL; tok = next) {
			if ((next = strchr(tok, ',')) != NULL)
				*next++ = '\0';
			if (*tok != '\0')
				principals[np++] = tok;
		}
		p.principals = (const char *const *)principals;
		p.nprincipals = np;
	}
	if (!kg.cert_host) {
		p.force_command = kg.cert_force_command;
		p.source_address = kg.cert_source_address;
		if (kg.cert_ext_set) {
			for (i = 0; i < KG_CERT_NEXT; i++)
				if (kg.cert_ext[i])
					exts[p.nextensions++] =
					    kg_cert_ext_names[i];
			p.extensions = exts;
			p.no_extensions = p.nextensions == 0;
		}
	}
	p.sig_alg = kg.type;
	ca = kg_load_identity("Load key", kg.cert_ca, 0, NULL);
	for (i = 0; i < argc; i++) {
		if ((r = kg_load_public(argv[i], &k)) != 0)
			fatal("load pubkey \"%s\": %s", argv[i],
			    r == FERR_SYSTEM ? strerror(errno) : err_str(r));
		if ((r = key_cert_sign(k, ca, &p, &cert)) != 0)
			fatal_r(r, "Couldn't certify key %s", argv[i]);
		kg_cert_path(argv[i], out, sizeof(out));
		if ((b = buf_new()) == NULL ||
		    (r = key_cert_format_line(cert, b)) != 0 ||
		    (r = buf_put_u8(b, '\n')) != 0 ||
		    (r = key_write_file(out, b, 0644)) != 0)
			fatal("Could not write certified key to %s", out);
		buf_free(b);
		if (!kg.quiet) {
			kg_cert_fmt_validity(cert, valid, sizeof(valid));
			fprintf(stderr, "Signed %s key %s: id \"%s\" serial "
			    "%llu%s%s valid %s\r\n", kg.cert_host ? "host" :
			    "user", out, cert->key_id,
			    (unsigned long long)cert->serial,
			    kg.cert_principals != NULL ? " for " : "",
			    kg.cert_principals != NULL ?
			    kg.cert_principals : "", valid);
		}
		key_cert_free(cert);
		key_free(k);
	}
	key_free(ca);
	free(principals);
	free(plist);
	exit(0);
}

/* -L: critical options or extensions, as ssh-keygen's show_options. */
static void
kg_cert_show_options(const struct key_cert *c, int critical)
{
	const struct key_cert_option *o = critical ? c->critical :
	    c->extensions;
	size_t n = critical ? c->ncritical : c->nextensions, i, j;
	char *val;

	printf("        %s: %s\n", critical ? "Critical Options" :
	    "Extensions", n == 0 ? "(none)" : "");
	for (i = 0; i < n; i++) {
		printf("                %s", o[i].name);
		if (critical && (strcmp(o[i].name, "force-command") == 0 ||
		    strcmp(o[i].name, "source-address") == 0) &&
		    key_cert_option_string(c, o[i].name, &val) == 0 &&
		    val != NULL) {
			printf(" %s\n", val);
			free(val);
		} else if (o[i].datalen == 0) {
			printf("\n");
		} else {
			printf(" UNKNOWN OPTION: ");
			for (j = 0; j < o[i].datalen; j++)
				printf("%02x", o[i].data[j]);
			printf(" (len %zu)\n", o[i].datalen);
		}
	}
}

static void
kg_cert_show(const char *label, const struct key_cert *c)
{
	char *fp = NULL, *cafp = NULL, valid[160];
	size_t i;
	int r;

	if ((r = key_fingerprint(c->key, kg.fp_hash, &fp)) != 0 ||
	    (r = key_fingerprint(c->ca, kg.fp_hash, &cafp)) != 0)
		fatal_r(r, "fingerprint");
	kg_cert_fmt_validity(c, valid, sizeof(valid));
	printf("%s:\n", label);
	printf("        Type: %s %s certificate\n", c->type_name,
	    c->type == KEY_CERT_USER ? "user" : "host");
	printf("        Public key: %s-CERT %s\n",
	    key_type_short(key_get_type(c->key)), fp);
	printf("        Signing CA: %s %s (using %s)\n",
	    key_type_short(key_get_type(c->ca)), cafp, c->sig_alg);
	printf("        Key ID: \"%s\"\n", c->key_id);
	printf("        Serial: %llu\n", (unsigned long long)c->serial);
	printf("        Valid: %s\n", valid);
	printf("        Principals: %s\n", c->nprincipals == 0 ? "(none)" :
	    "");
	for (i = 0; i < c->nprincipals; i++)
		printf("                %s\n", c->principals[i]);
	kg_cert_show_options(c, 1);
	kg_cert_show_options(c, 0);
	free(fp);
	free(cafp);
}

static void __attribute__((noreturn))
kg_do_show_cert(void)
{
	struct buf *file = NULL;
	struct key_cert *c;
	char *text, *line, *next;
	unsigned long lnum = 0;
	int r;

	if (!kg.have_path)
		kg_ask_filename("Enter file in which the key is");
	if ((r = key_read_file(kg.path, 0, &file)) != 0) {
		if (r == FERR_SYSTEM)
			fatal("%s: %s: %s", prog_name(), kg.path,
			    strerror(errno));
		fatal_r(r, "%s", kg.path);
	}
	if ((text = buf_dup_string(file)) == NULL)
		fatal("%s is not a certificate", kg.path);
	buf_free(file);
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		lnum++;
		line += strspn(line, " \t");
		if (*line == '#' || *line == '\0' || *line == '\r')
			continue;
		if (key_cert_parse_line(line, &c) != 0) {
			fprintf(stderr, "%s:%lu is not a certificate\r\n",
			    kg.path, lnum);
			exit(1);
		}
		kg_cert_show(kg.path, c);
		key_cert_free(c);
	}
	free(text);
	exit(0);
}

static void
kg_set_mode(enum kg_mode mode)
{
	kg.mode = mode;
	kg.nmodes++;
}

static unsigned int
kg_number(const char *s, long long min, long long max, const char *what)
{
	const char *errstr;
	long long v;

	v = misc_strtonum(s, min, max, &errstr);
	if (errstr != NULL)
		fatal("%s has bad value %s (%s).", what, s, errstr);
	return (unsigned int)v;
}

/* -z: a serial number, any 64-bit value. */
static unsigned long long
kg_serial(const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (*s == '-' || !isdigit((unsigned char)*s) ||
	    (v = strtoull(s, &end, 10), errno != 0) || *end != '\0')
		fatal("Invalid serial number \"%s\"", s);
	return v;
}

int
main(int argc, char **argv)
{
	const char *format = NULL;
	int ch;

	prog_init(argv[0]);
	/* Close a gap for the passphrase prompts: no core files. */
	umask(077);
	if ((kg.pw = getpwuid(getuid())) == NULL)
		fatal("No user exists for uid %lu", (unsigned long)getuid());
	kg.fp_hash = KEY_FP_SHA256;
	while ((ch = getopt(argc, argv, "ABHKLQUXceghiklopquvyC:D:E:F:I:"
	    "M:N:O:P:R:V:Y:Z:a:b:f:g:j:m:n:r:s:t:w:z:")) != -1) {
		switch (ch) {
		case 'A':
			kg.gen_host_keys = 1;
			break;
		case 'a':
			kg.rounds = kg_number(optarg, 1, INT_MAX, "Rounds");
			break;
		case 'b':
			kg.bits = kg_number(optarg, 1, UINT32_MAX, "Bits");
			break;
		case 'C':
			kg.comment = optarg;
			break;
		case 'c':
			kg_set_mode(KG_CHANGE_COMMENT);
			break;
		case 'E':
			if (strcasecmp(optarg, "sha256") == 0)
				kg.fp_hash = KEY_FP_SHA256;
			else if (strcasecmp(optarg, "md5") == 0)
				kg.fp_hash = KEY_FP_MD5;
			else
				fatal("Invalid hash algorithm \"%s\"", optarg);
			break;
		case 'e':
		case 'x':
			kg_set_mode(KG_EXPORT);
			break;
		case 'f':
			kg_set_path(optarg);
			break;
		case 'F':
			kg.kh_mode = KG_KH_FIND;
			kg.kh_host = optarg;
			break;
		case 'H':
			kg.hash_hosts = 1;
			break;
		case 'h':
			kg.cert_host = 1;
			break;
		case 'I':
			kg.cert_key_id = optarg;
			break;
		case 'L':
			kg_set_mode(KG_SHOW_CERT);
			break;
		case 'n':
			kg.cert_principals = optarg;
			break;
		case 'O':
			kg_cert_option(optarg);
			break;
		case 's':
			kg.cert_ca = optarg;
			break;
		case 'V':
			kg.cert_validity = optarg;
			break;
		case 'z':
			kg.cert_serial = (uint64_t)kg_serial(optarg);
			break;
		case 'R':
			kg.kh_mode = KG_KH_REMOVE;
			kg.kh_host = optarg;
			break;
		case 'i':
		case 'X':
			kg_set_mode(KG_IMPORT);
			break;
		case 'l':
			kg_set_mode(KG_FINGERPRINT);
			break;
		case 'm':
			format = optarg;
			break;
		case 'N':
			kg.new_pass = optarg;
			break;
		case 'o':
			/* The OpenSSH format is the only one written. */
			break;
		case 'P':
			kg.old_pass = optarg;
			break;
		case 'p':
			kg_set_mode(KG_CHANGE_PASS);
			break;
		case 'q':
			kg.quiet = 1;
			break;
		case 't':
			kg.type = optarg;
			break;
		case 'v':
			kg.verbose++;
			if (kg.verbose > 1)
				log_set_level(LOGL_DEBUG1 + kg.verbose - 2);
			break;
		case 'y':
			kg_set_mode(KG_PRINT_PUBLIC);
			break;
		case 'Z':
			if (!key_private_cipher_supported(optarg))
				fatal("Invalid OpenSSH-format cipher '%s'",
				    optarg);
			kg.cipher = optarg;
			break;
		case '?':
			kg_usage();
		default:
			kg_not_yet(ch);
		}
	}
	if (kg.cert_ca != NULL) {
		if (optind >= argc) {
			fprintf(stderr, "Too few arguments.\n");
			kg_usage();
		}
		kg_do_sign_certs(argc - optind, argv + optind);
	}
	if (optind < argc) {
		fprintf(stderr, "Too many arguments.\n");
		kg_usage();
	}
	if (kg.nmodes > 1) {
		fprintf(stderr, "Can only have one of -p and -c.\n");
		kg_usage();
	}
	if (format != NULL) {
		if (strcasecmp(format, "RFC4716") == 0 ||
		    strcasecmp(format, "ssh2") == 0)
			kg.format = KG_FMT_RFC4716;
		else if (strcasecmp(format, "PKCS8") == 0)
			kg.format = KG_FMT_PKCS8;
		else if (strcasecmp(format, "PEM") == 0)
			kg.format = KG_FMT_PEM;
		else
			fatal("Unsupported conversion format \"%s\"", format);
		/* Private keys are written in OpenSSH's format only. */
		if (kg.format != KG_FMT_RFC4716 && kg.mode != KG_EXPORT &&
		    kg.mode != KG_IMPORT) {
			fprintf(stderr, "%s: writing private keys in %s format "
			    "is not supported yet\n", prog_name(), format);
			kg_usage();
		}
	}
	if (kg.kh_mode == KG_KH_NONE && kg.hash_hosts)
		kg.kh_mode = KG_KH_HASH;
	if (kg.kh_mode != KG_KH_NONE) {
		/* -l (a mode of its own) only changes what -F prints. */
		if (kg.mode != KG_GENERATE && kg.mode != KG_FINGERPRINT)
			kg_usage();
		kg_do_known_hosts();
	}
	switch (kg.mode) {
	case KG_PRINT_PUBLIC:
		kg_do_print_public();
	case KG_FINGERPRINT:
		kg_do_fingerprint();
	case KG_CHANGE_PASS:
		kg_do_change_passphrase();
	case KG_CHANGE_COMMENT:
		kg_do_change_comment();
	case KG_EXPORT:
		kg_do_export();
	case KG_IMPORT:
		kg_do_import();
	case KG_SHOW_CERT:
		kg_do_show_cert();
	case KG_GENERATE:
	default:
		if (kg.gen_host_keys)
			kg_do_host_keys();
		kg_do_generate();
	}
	return 0;
}
