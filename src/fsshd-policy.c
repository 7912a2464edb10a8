/*
 * fsshd's account policy in configuration mode (-f): who may log in and
 * how (sshd_config with Match applied per connection), password checks
 * against the shadow file, authorized_keys files with their tokens, and
 * taking the user's identity (with ChrootDirectory) after authentication.
 */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <fnmatch.h>
#include <grp.h>
#include <pwd.h>
#include <shadow.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ferry/authkeys.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sftp-server.h"
#include "ferry/sshdconf.h"
#include "fsshd.h"
#include "misc.h"
#include "prog.h"

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
fsshd_policy_authkeys(const struct sshdconf *eff, const struct fsshd_account *a,
    const struct key *key, const char *addr, struct authkeys_decision *d)
{
	const char *files[SSHDCONF_MAX_LIST];
	char *expanded[SSHDCONF_MAX_LIST], path[4096];
	struct authkeys_client client;
	struct fsshd_euid save;
	size_t i, n = 0;
	int r = 0;

	memset(expanded, 0, sizeof(expanded));
	for (i = 0; i < eff->authorized_keys_files.n && i < SSHDCONF_MAX_LIST; i++) {
		char *e;

		if ((r = sshdconf_expand(eff->authorized_keys_files.v[i], a->home,
		    a->name, &e)) != 0)
			goto out;
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
				goto out;
			}
		}
		expanded[n] = e;
		files[n] = e;
		n++;
	}
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
	r = authkeys_check(files, n, key, &client, d);
	if (fsshd_euid_restore(&save) != 0)
		fatal("cannot restore root's identity");
 out:
	for (i = 0; i < n; i++)
		free(expanded[i]);
	return r;
}

int
fsshd_policy_password(const struct sshdconf *eff, const struct fsshd_account *a,
    const char *password)
{
	struct spwd *sp;
	const char *hash;
	struct crypt_data *cd = NULL;
	char *got;
	size_t len;
	int ok = 0;

	if (!eff->password_authentication)
		return 0;
	if (a->uid == 0 && eff->permit_root_login != SSHDCONF_ROOT_YES)
		return 0;
	if ((sp = getspnam(a->name)) != NULL)
		hash = sp->sp_pwdp;
	else
		hash = a->passwd;
	if (hash == NULL)
		return 0;
	/* Locked ("!", "*") and expired accounts never log in by password. */
	if (hash[0] == '!' || hash[0] == '*' || (hash[0] == '\0' &&
	    !eff->permit_empty_passwords))
		return 0;
	if (sp != NULL && sp->sp_expire > 0 &&
	    (long)(time(NULL) / 86400) >= sp->sp_expire)
		return 0;
	if (hash[0] == '\0')
		return password[0] == '\0';
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return 0;
	if ((got = crypt_r(password, hash, cd)) != NULL && got[0] != '*' &&
	    (len = strlen(hash)) == strlen(got))
		ok = CRYPTO_memcmp(got, hash, len) == 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
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
