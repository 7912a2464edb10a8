/*
 * fsshd's account policy in configuration mode (-f): who may log in and
 * how (sshd_config with Match applied per connection), password checks
 * against the shadow file, authorized_keys files with their tokens, and
 * taking the user's identity (with ChrootDirectory) after authentication.
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ferry/authkeys.h"
#include "ferry/buf.h"
#include "ferry/key.h"
#include "ferry/key-cert.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sftp-server.h"
#include "ferry/sshdconf.h"
#include "fsshd.h"
#include "fsshd-auth.h"
#include "misc.h"
#include "prog.h"

/* Caps on TrustedUserCAKeys: keys, and bytes of it and principal files. */
#define FSSHD_MAX_CAS		64
#define FSSHD_CAFILE_MAX	(1024U * 1024)

/* Whether pattern (a user or user@host pattern) matches. */
static int
fsshd_user_pattern(const char *pattern, const char *user, const char *addr)
{
	char buf[1024], *at;

	if (misc_strlcpy(buf, pattern, sizeof(buf)) >= sizeof(buf))
		return 0;
	if ((at = strchr(buf, '@')) != NULL) {
		*at++ = '\0';
		if (fnmatch(at, addr, 0) != 0)
			return 0;
	}
	return fnmatch(buf, user, 0) == 0;
}

static int
fsshd_list_any(const struct sshdconf_list *l, const char *user,
    const char *addr)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (fsshd_user_pattern(l->v[i], user, addr))
			return 1;
	return 0;
}

static int
fsshd_groups_any(const struct sshdconf_list *pats,
    const struct sshdconf_list *groups)
{
	size_t i, j;

	for (i = 0; i < pats->n; i++)
		for (j = 0; j < groups->n; j++)
			if (fnmatch(pats->v[i], groups->v[j], 0) == 0)
				return 1;
	return 0;
}

int
fsshd_policy_account(const struct sshdconf *eff,
    const struct sshdconf_conn *conn, uid_t uid, char *why, size_t whylen)
{
	const char *addr = conn->address != NULL ? conn->address : "";

	why[0] = '\0';
	if (uid == 0 && eff->permit_root_login == SSHDCONF_ROOT_NO) {
		snprintf(why, whylen, "root login refused (PermitRootLogin no)");
		return 0;
	}
	if (fsshd_list_any(&eff->deny_users, conn->user, addr)) {
		snprintf(why, whylen, "listed in DenyUsers");
		return 0;
	}
	if (eff->allow_users.n > 0 &&
	    !fsshd_list_any(&eff->allow_users, conn->user, addr)) {
		snprintf(why, whylen, "not listed in AllowUsers");
		return 0;
	}
	if (fsshd_groups_any(&eff->deny_groups, &conn->groups)) {
		snprintf(why, whylen, "a group is listed in DenyGroups");
		return 0;
	}
	if (eff->allow_groups.n > 0 &&
	    !fsshd_groups_any(&eff->allow_groups, &conn->groups)) {
		snprintf(why, whylen, "no group is listed in AllowGroups");
		return 0;
	}
	return 1;
}

/*
 * Read the user's files with the user's identity, as OpenSSH does, so a
 * link in ~/.ssh cannot make root read what the user could not.
 */
struct fsshd_euid {
	gid_t groups[256];
	int ngroups;
	int switched;
};

static int
fsshd_euid_user(const struct fsshd_account *a, struct fsshd_euid *save)
{
	save->switched = 0;
	if (geteuid() != 0 || a->uid == 0)
		return 0;
	if ((save->ngroups = getgroups(256, save->groups)) == -1)
		return -1;
	if (setgroups(1, &a->gid) == -1 || setegid(a->gid) == -1 ||
	    seteuid(a->uid) == -1) {
		/* Leave nothing half switched. */
		if (seteuid(0) == -1 || setegid(0) == -1 ||
		    setgroups((size_t)save->ngroups, save->groups) == -1)
			return -2;
		return -1;
	}
	save->switched = 1;
	return 0;
}

static int
fsshd_euid_restore(struct fsshd_euid *save)
{
	if (!save->switched)
		return 0;
	save->switched = 0;
	if (seteuid(0) == -1 || setegid(0) == -1 ||
	    setgroups((size_t)save->ngroups, save->groups) == -1)
		return -1;
	return 0;
}

int
fsshd_policy_secure_path(const char *path, uid_t uid, const char *home,
    char *why, size_t whylen)
{
	char real[PATH_MAX], homereal[PATH_MAX], *slash;
	struct stat st;
	int under_home;

	why[0] = '\0';
	if (realpath(path, real) == NULL) {
		if (errno == ENOENT)
			return 1;	/* nothing to read: nothing to trust */
		snprintf(why, whylen, "cannot resolve %s: %s", path,
		    strerror(errno));
		return 0;
	}
	if (stat(real, &st) == -1) {
		snprintf(why, whylen, "%s: %s", real, strerror(errno));
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s is not a regular file", real);
		return 0;
	}
	if ((st.st_uid != 0 && st.st_uid != uid) || (st.st_mode & 022) != 0) {
		snprintf(why, whylen, "bad ownership or modes for file %s", real);
		return 0;
	}
	under_home = home != NULL && realpath(home, homereal) != NULL;
	/* Each directory up to the home directory, or to / outside it. */
	while ((slash = strrchr(real, '/')) != NULL) {
		if (slash == real)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(real, &st) == -1) {
			snprintf(why, whylen, "%s: %s", real, strerror(errno));
			return 0;
		}
		if ((st.st_uid != 0 && st.st_uid != uid) ||
		    (st.st_mode & 022) != 0) {
			snprintf(why, whylen, "bad ownership or modes for "
			    "directory %s", real);
			return 0;
		}
		if ((under_home && strcmp(real, homereal) == 0) ||
		    strcmp(real, "/") == 0)
			break;
	}
	return 1;
}

/*
 * The account's AuthorizedKeysFile list, expanded (%h %u %%, relative to
 * home) and, with StrictModes, with unsafe files left out (logged).
 * Frees and fills expanded[0..*np-1].
 */
static int
fsshd_policy_keyfiles(const struct sshdconf *eff, const struct fsshd_account *a,
    char **expanded, size_t *np)
{
	char path[4096], why[PATH_MAX + 64], *e;
	size_t i, n = 0;
	int r = 0;

	for (i = 0; i < eff->authorized_keys_files.n && i < SSHDCONF_MAX_LIST; i++) {
		if ((r = sshdconf_expand(eff->authorized_keys_files.v[i], a->home,
		    a->name, &e)) != 0)
			break;
		if (strcmp(e, "none") == 0) {
			free(e);
			continue;
		}
		/* Relative paths are relative to the home directory. */
		if (e[0] != '/') {
			if (snprintf(path, sizeof(path), "%s/%s", a->home, e) >=
			    (int)sizeof(path)) {
				/* Never a truncated path: that names another file. */
				log_error("AuthorizedKeysFile %s for %s: path too long",
				    e, a->name);
				free(e);
				continue;
			}
			free(e);
			if ((e = strdup(path)) == NULL) {
				r = FERR_ALLOC;
				break;
			}
		}
		/* StrictModes: a file others could change grants nothing. */
		if (eff->strict_modes &&
		    !fsshd_policy_secure_path(e, a->uid, a->home, why,
		    sizeof(why))) {
			log_info("Authentication refused for %s: %s", a->name,
			    why);
			free(e);
			continue;
		}
		expanded[n++] = e;
	}
	*np = n;
	return r;
}

/*
 * Search the account's key files, read with the user's identity: for
 * key (a plain key) or for cert (cert-authority lines).
 */
static int
fsshd_policy_search(const struct sshdconf *eff, const struct fsshd_account *a,
    const struct key *key, const struct key_cert *cert, const char *addr,
    struct authkeys_decision *d)
{
	const char *files[SSHDCONF_MAX_LIST];
	char *expanded[SSHDCONF_MAX_LIST];
	struct authkeys_client client;
	struct fsshd_euid save;
	size_t i, n = 0;
	int r;

	memset(expanded, 0, sizeof(expanded));
	if ((r = fsshd_policy_keyfiles(eff, a, expanded, &n)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		files[i] = expanded[i];
	memset(&client, 0, sizeof(client));
	client.addr = addr;
	client.now = time(NULL);
	if ((r = fsshd_euid_user(a, &save)) != 0) {
		/* Could not take the user's identity: fail closed. */
		log_error("cannot read %s's keys as the user: %s", a->name,
		    strerror(errno));
		if (r == -2)
			fatal("cannot restore root's identity");
		r = FERR_SYSTEM;
		goto out;
	}
	if (cert != NULL)
		r = authkeys_check_cert(files, n, cert, a->name, &client, d);
	else
		r = authkeys_check(files, n, key, &client, d);
	if (fsshd_euid_restore(&save) != 0)
		fatal("cannot restore root's identity");
 out:
	for (i = 0; i < n; i++)
		free(expanded[i]);
	return r;
}

int
fsshd_policy_authkeys(const struct sshdconf *eff, const struct fsshd_account *a,
    const struct key *key, const char *addr, struct authkeys_decision *d)
{
	return fsshd_policy_search(eff, a, key, NULL, addr, d);
}

/* TrustedUserCAKeys: the CA keys of the file (public key lines). */
static int
fsshd_policy_cas(const char *path, struct key **cas, size_t max, size_t *np)
{
	struct buf *b = NULL;
	char *text = NULL, *line, *p;
	struct key *k;
	size_t n = 0;
	int r;

	*np = 0;
	if ((r = key_read_file(path, FSSHD_CAFILE_MAX, &b)) != 0 ||
	    (text = buf_dup_string(b)) == NULL) {
		r = r != 0 ? r : FERR_ALLOC;
		goto out;
	}
	for (p = text; (line = strsep(&p, "\n")) != NULL && n < max;) {
		line[strcspn(line, "\r")] = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		if (key_parse_public_line(line, &k) != 0) {
			log_info("%s: a line that is not a public key", path);
			continue;
		}
		cas[n++] = k;
	}
	*np = n;
 out:
	free(text);
	buf_free(b);
	return r;
}

/*
 * AuthorizedPrincipalsFile for the account: the first line naming one of
 * cert's principals ("[options] principal"), with its options in *optsp
 * (NULL for none).  Returns 1 found, 0 not, or a negative code.
 */
static int
fsshd_policy_principals(const char *path, const struct key_cert *cert,
    struct authkeys_opts **optsp, char **namep, unsigned long *linep)
{
	struct buf *b = NULL;
	char *text = NULL, *line, *p, *name;
	const char *rest, *errstr;
	struct authkeys_opts *opts;
	unsigned long lineno = 0;
	size_t i;
	int r, found = 0;

	*optsp = NULL;
	*namep = NULL;
	if ((r = key_read_file(path, FSSHD_CAFILE_MAX, &b)) != 0) {
		/* A missing file lists nobody. */
		r = r == FERR_SYSTEM && errno == ENOENT ? 0 : r;
		goto out;
	}
	if ((text = buf_dup_string(b)) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	for (p = text; !found && (line = strsep(&p, "\n")) != NULL;) {
		lineno++;
		line[strcspn(line, "\r")] = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		opts = NULL;
		name = line;
		if (strpbrk(line, " \t") != NULL) {
			if (authkeys_parse_options(line, &opts, &rest,
			    &errstr) != 0) {
				log_info("%s:%lu: %s", path, lineno, errstr);
				continue;
			}
			name = (char *)rest;
			name[strcspn(name, " \t")] = '\0';
		}
		for (i = 0; i < cert->nprincipals && !found; i++)
			found = strcmp(cert->principals[i], name) == 0;
		if (found) {
			if ((*namep = strdup(name)) == NULL) {
				authkeys_opts_free(opts);
				r = FERR_ALLOC;
				goto out;
			}
			*optsp = opts;
			*linep = lineno;
		} else
			authkeys_opts_free(opts);
	}
	r = found;
 out:
	free(text);
	buf_free(b);
	return r;
}

/* Merge the certificate's force-command into opts (which it may create). */
static int
fsshd_policy_cert_opts(const struct key_cert *cert, struct authkeys_opts **optsp,
    char *why, size_t whylen)
{
	char *fc = NULL;
	int r;

	if ((r = key_cert_option_string(cert, "force-command", &fc)) != 0)
		return r;
	if (*optsp == NULL && (*optsp = authkeys_opts_new()) == NULL) {
		free(fc);
		return FERR_ALLOC;
	}
	if (fc == NULL)
		return 0;
	if ((*optsp)->force_command != NULL &&
	    strcmp((*optsp)->force_command, fc) != 0) {
		snprintf(why, whylen, "certificate and principals file force "
		    "different commands");
		free(fc);
		return FERR_PERMISSION;
	}
	free((*optsp)->force_command);
	(*optsp)->force_command = fc;
	return 0;
}

int
fsshd_policy_cert(const struct sshdconf *eff, const struct fsshd_account *a,
    const struct key_cert *cert, const char *addr,
    struct authkeys_decision *d)
{
	struct key *cas[FSSHD_MAX_CAS];
	struct authkeys_opts *opts = NULL;
	struct fsshd_euid save;
	char *pfile = NULL, *principal = NULL, why[PATH_MAX + 64];
	const char *reason = NULL;
	unsigned long line = 0;
	size_t i, ncas = 0;
	int r = 0, found;

	memset(d, 0, sizeof(*d));
	why[0] = '\0';
	if (eff->trusted_user_ca_keys == NULL ||
	    strcmp(eff->trusted_user_ca_keys, "none") == 0)
		goto keyfiles;
	if ((r = fsshd_policy_cas(eff->trusted_user_ca_keys, cas,
	    FSSHD_MAX_CAS, &ncas)) != 0) {
		log_error("TrustedUserCAKeys %s: %s", eff->trusted_user_ca_keys,
		    r == FERR_SYSTEM ? strerror(errno) : err_str(r));
		goto keyfiles;
	}
	for (i = 0, found = 0; i < ncas && !found; i++)
		found = key_equal_public(cas[i], cert->ca);
	if (!found)
		goto keyfiles;	/* another CA: maybe a cert-authority line */
	if (eff->authorized_principals_file != NULL &&
	    strcmp(eff->authorized_principals_file, "none") != 0) {
		if ((r = sshdconf_expand(eff->authorized_principals_file, a->home,
		    a->name, &pfile)) != 0)
			goto out;
		if (pfile[0] != '/') {
			char *abs;

			if (asprintf(&abs, "%s/%s", a->home, pfile) < 0) {
				r = FERR_ALLOC;
				goto out;
			}
			free(pfile);
			pfile = abs;
		}
		if (eff->strict_modes &&
		    !fsshd_policy_secure_path(pfile, a->uid, a->home, why,
		    sizeof(why))) {
			snprintf(d->reason, sizeof(d->reason), "%s", why);
			goto refused;
		}
		if ((r = fsshd_euid_user(a, &save)) != 0) {
			if (r == -2)
				fatal("cannot restore root's identity");
			r = FERR_SYSTEM;
			goto out;
		}
		r = fsshd_policy_principals(pfile, cert, &opts, &principal,
		    &line);
		if (fsshd_euid_restore(&save) != 0)
			fatal("cannot restore root's identity");
		if (r < 0)
			goto out;
		if (r == 0) {
			snprintf(d->reason, sizeof(d->reason), "no principal of "
			    "the certificate is in %s", pfile);
			goto refused;
		}
	} else if ((principal = strdup(a->name)) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	if (key_cert_check(cert, KEY_CERT_USER, principal, (uint64_t)time(NULL),
	    (const struct key *const *)cas, ncas, addr, &reason) != 0) {
		snprintf(d->reason, sizeof(d->reason), "certificate: %s",
		    reason != NULL ? reason : "refused");
		goto refused;
	}
	if (opts != NULL && opts->from != NULL &&
	    authkeys_match_from(opts->from, addr, NULL) != 1) {
		snprintf(d->reason, sizeof(d->reason), "from= of %s:%lu",
		    pfile, line);
		goto refused;
	}
	if ((r = fsshd_policy_cert_opts(cert, &opts, why, sizeof(why))) != 0) {
		if (r == FERR_PERMISSION) {
			snprintf(d->reason, sizeof(d->reason), "%s", why);
			goto refused;
		}
		goto out;
	}
	if ((d->file = strdup(pfile != NULL ? pfile :
	    eff->trusted_user_ca_keys)) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	d->line = line;
	d->opts = opts;
	opts = NULL;
	d->allowed = 1;
	goto out;
 refused:
	/* As sshd: cert-authority lines may still admit the certificate. */
	snprintf(why, sizeof(why), "%s", d->reason);
	if ((r = fsshd_policy_search(eff, a, NULL, cert, addr, d)) == 0 &&
	    !d->allowed && why[0] != '\0')
		snprintf(d->reason, sizeof(d->reason), "%s", why);
	goto out;
 keyfiles:
	r = fsshd_policy_search(eff, a, NULL, cert, addr, d);
 out:
	for (i = 0; i < ncas; i++)
		key_free(cas[i]);
	authkeys_opts_free(opts);
	free(pfile);
	free(principal);
	return r;
}

int
fsshd_policy_password(const struct sshdconf *eff, const struct fsshd_account *a,
    const char *password)
{
	char why[256];

	if (!eff->password_authentication)
		return 0;
	return fsshd_auth_password(eff, a, NULL, password, why, sizeof(why));
}

/*
 * OpenSSH's rule for ChrootDirectory: every component of the path is a
 * directory owned by root and not writable by group or others.
 */
static int
fsshd_chroot_ok(const char *dir, char *why, size_t whylen)
{
	char path[4096], *p;
	struct stat st;

	if (dir[0] != '/' || misc_strlcpy(path, dir, sizeof(path)) >= sizeof(path)) {
		snprintf(why, whylen, "ChrootDirectory %s is not an absolute path", dir);
		return 0;
	}
	for (p = path;; p++) {
		char save = *p;

		if (*p != '/' && *p != '\0')
			continue;
		*p = '\0';
		if (stat(path[0] != '\0' ? path : "/", &st) == -1) {
			snprintf(why, whylen, "ChrootDirectory %s: %s", path,
			    strerror(errno));
			return 0;
		}
		if (st.st_uid != 0 || (st.st_mode & 022) != 0 ||
		    !S_ISDIR(st.st_mode)) {
			snprintf(why, whylen, "bad ownership or modes for chroot "
			    "directory component \"%s\"", path[0] != '\0' ? path : "/");
			return 0;
		}
		*p = save;
		if (save == '\0')
			break;
	}
	return 1;
}

int
fsshd_become_user(const struct sshdconf *eff, struct fsshd_account *a,
    char *why, size_t whylen)
{
	char *root = NULL;
	int r = -1;

	why[0] = '\0';
	if (eff->chroot_directory != NULL &&
	    strcmp(eff->chroot_directory, "none") != 0) {
		if (sshdconf_expand(eff->chroot_directory, a->home, a->name,
		    &root) != 0) {
			snprintf(why, whylen, "cannot expand ChrootDirectory");
			goto out;
		}
		if (!fsshd_chroot_ok(root, why, whylen))
			goto out;
		if (chroot(root) == -1 || chdir("/") == -1) {
			snprintf(why, whylen, "chroot(\"%s\"): %s", root,
			    strerror(errno));
			goto out;
		}
		a->chrooted = 1;
	}
	if (initgroups(a->name, a->gid) == -1 || setgid(a->gid) == -1 ||
	    setuid(a->uid) == -1) {
		snprintf(why, whylen, "cannot become %s: %s", a->name,
		    strerror(errno));
		goto out;
	}
	/* Root must not be regainable. */
	if (a->uid != 0 && (setuid(0) != -1 || seteuid(0) != -1)) {
		snprintf(why, whylen, "could regain root after setuid");
		goto out;
	}
	/* In a chroot the home is used when it exists there, else "/". */
	if (chdir(a->home) == -1 && chdir("/") == -1) {
		snprintf(why, whylen, "chdir: %s", strerror(errno));
		goto out;
	}
	r = 0;
 out:
	free(root);
	return r;
}

/* Split a command line on spaces and tabs (no quoting: sshd's own). */
static size_t
fsshd_split(char *s, char **argv, size_t max)
{
	size_t n = 0;
	char *t;

	while (n + 1 < max && (t = strsep(&s, " \t")) != NULL)
		if (*t != '\0')
			argv[n++] = t;
	argv[n] = NULL;
	return n;
}

int
fsshd_internal_sftp_opts(const char *cmdline, struct sftp_server_opts *so,
    mode_t *umaskp)
{
	char *copy, *argv[32], *ep;
	size_t argc, i;
	uint64_t mask;
	unsigned long u;
	int r = 0;

	*umaskp = (mode_t)-1;
	if ((copy = strdup(cmdline)) == NULL)
		return FERR_ALLOC;
	argc = fsshd_split(copy, argv, 32);
	/* argv[0] is internal-sftp itself. */
	for (i = 1; i < argc && r == 0; i++) {
		const char *arg = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(argv[i], "-R") == 0)
			so->read_only = 1;
		else if (strcmp(argv[i], "-e") == 0)
			continue;
		else if (arg == NULL)
			r = FERR_CONFIG;
		else if (strcmp(argv[i], "-d") == 0) {
			free((char *)so->start_dir);
			if ((so->start_dir = strdup(arg)) == NULL)
				r = FERR_ALLOC;
			i++;
		} else if (strcmp(argv[i], "-r") == 0) {
			/* Confinement root (%h %u %%), as fsftp-server -r. */
			free((char *)so->root);
			if ((so->root = strdup(arg)) == NULL)
				r = FERR_ALLOC;
			i++;
		} else if (strcmp(argv[i], "-P") == 0 || strcmp(argv[i], "-p") == 0) {
			if ((r = sftp_server_parse_requests(arg, &mask)) == 0) {
				if (argv[i][1] == 'P')
					so->denied |= mask;
				else
					so->denied |= SFTP_REQ_ALL & ~mask;
			}
			i++;
		} else if (strcmp(argv[i], "-u") == 0) {
			errno = 0;
			u = strtoul(arg, &ep, 8);
			if (*ep != '\0' || errno != 0 || u > 0777)
				r = FERR_CONFIG;
			*umaskp = (mode_t)u;
			i++;
		} else if (strcmp(argv[i], "-l") == 0 || strcmp(argv[i], "-f") == 0)
			i++;	/* logging follows fsshd's own settings */
		else
			r = FERR_CONFIG;
	}
	free(copy);
	return r;
}
