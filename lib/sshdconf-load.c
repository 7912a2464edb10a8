/*
 * sshd_config(5): reading files into entries (with Include and Match
 * blocks), checking every entry, and applying Match for a connection.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/buf.h"
#include "ferry/err.h"
#include "ferry/log.h"
#include "ferry/sshdconf.h"
#include "config-util.h"
#include "misc.h"
#include "sshdconf-int.h"

#define SSHDCONF_SYSTEM_DIR	"/etc/ssh"

struct sshdconf_reader {
	struct sshdconf_block	*blk;
	const char		*file;
	int			 line;
	int			 depth;
	int			 block;		/* current Match block or -1 */
	int			 errors;
	int			 cmdline;
};

static int sshdconf_read_buf(struct sshdconf_reader *, struct buf *);

static void
sshdconf_rerr(struct sshdconf_reader *rd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sshdconf_rerr(struct sshdconf_reader *rd, const char *fmt, ...)
{
	char msg[512];
	va_list va;

	va_start(va, fmt);
	vsnprintf(msg, sizeof(msg), fmt, va);
	va_end(va);
	log_error("%s line %d: %s", rd->file, rd->line, msg);
	rd->errors++;
}

void
sshdconf_block_free(struct sshdconf_block *b)
{
	size_t i;

	if (b == NULL || --b->refs > 0)
		return;
	for (i = 0; i < b->nentries; i++) {
		free(b->entries[i].file);
		config_strv_free(&b->entries[i].av);
		free(b->entries[i].rest);
	}
	free(b->entries);
	for (i = 0; i < b->ncriteria; i++)
		config_strv_free(&b->criteria[i]);
	free(b->criteria);
	free(b);
}

/* Check the syntax of Match criteria "ATTR VALUE ..." or "All". */
static int
sshdconf_check_criteria(struct sshdconf_reader *rd,
    const struct config_strv *av)
{
	static const char *const attrs[] = {
		"user", "group", "host", "address", "localaddress",
		"localport", "rdomain", NULL
	};
	const char *errstr;
	size_t i, j;

	if (av->n == 0) {
		sshdconf_rerr(rd, "One or more attributes required for Match");
		return FERR_CONFIG;
	}
	for (i = 0; i < av->n; i++) {
		if (strcasecmp(av->v[i], "all") == 0) {
			if (av->n != 1) {
				sshdconf_rerr(rd, "'all' cannot be combined "
				    "with other Match attributes");
				return FERR_CONFIG;
			}
			continue;
		}
		for (j = 0; attrs[j] != NULL; j++)
			if (strcasecmp(attrs[j], av->v[i]) == 0)
				break;
		if (attrs[j] == NULL) {
			sshdconf_rerr(rd, "Unsupported Match attribute %s",
			    av->v[i]);
			return FERR_CONFIG;
		}
		if (i + 1 >= av->n || av->v[i + 1][0] == '\0') {
			sshdconf_rerr(rd, "Missing Match criteria for %s",
			    av->v[i]);
			return FERR_CONFIG;
		}
		i++;
		if ((j == 3 || j == 4) &&
		    config_match_addr_list("0.0.0.0", av->v[i]) == FERR_CONFIG) {
			sshdconf_rerr(rd, "Invalid Match address argument %s",
			    av->v[i]);
			return FERR_CONFIG;
		}
		if (j == 5) {
			(void)misc_strtonum(av->v[i], 1, 65535, &errstr);
			if (errstr != NULL) {
				sshdconf_rerr(rd, "Invalid LocalPort '%s' on "
				    "Match line", av->v[i]);
				return FERR_CONFIG;
			}
		}
	}
	return 0;
}

static int
sshdconf_add_entry(struct sshdconf_reader *rd, const struct sshdconf_kw *kw,
    struct config_strv *av, const char *rest)
{
	struct sshdconf_block *b = rd->blk;
	struct sshdconf_entry *e, *ne;

	if (b->nentries >= 100000)
		return FERR_NUMBER_RANGE;
	if ((ne = reallocarray(b->entries, b->nentries + 1,
	    sizeof(*ne))) == NULL)
		return FERR_ALLOC;
	b->entries = ne;
	e = &b->entries[b->nentries];
	memset(e, 0, sizeof(*e));
	if ((e->file = strdup(rd->file)) == NULL ||
	    (e->rest = strdup(rest)) == NULL) {
		free(e->file);
		free(e->rest);
		return FERR_ALLOC;
	}
	e->line = rd->line;
	e->kw = kw;
	e->av = *av;
	e->block = rd->block;
	av->v = NULL;
	av->n = 0;
	b->nentries++;
	return 0;
}

static int
sshdconf_h_match(struct sshdconf_reader *rd, struct config_strv *av)
{
	struct sshdconf_block *b = rd->blk;
	struct config_strv *nc;

	if (rd->cmdline) {
		sshdconf_rerr(rd, "Match directive not supported as a "
		    "command-line option");
		return 0;
	}
	if (sshdconf_check_criteria(rd, av) != 0) {
		/* Lines of a broken block are still checked, never used. */
		config_strv_free(av);
	}
	if ((nc = reallocarray(b->criteria, b->ncriteria + 1,
	    sizeof(*nc))) == NULL)
		return FERR_ALLOC;
	b->criteria = nc;
	b->criteria[b->ncriteria] = *av;
	rd->block = (int)b->ncriteria++;
	av->v = NULL;
	av->n = 0;
	return 0;
}

static int
sshdconf_h_include(struct sshdconf_reader *rd, struct config_strv *av)
{
	struct config_strv files = { NULL, 0 };
	struct sshdconf_reader sub;
	struct buf *b = NULL;
	size_t i, j;
	int r = 0, oblock = rd->block;

	if (rd->cmdline) {
		sshdconf_rerr(rd, "Include directive not supported as a "
		    "command-line option");
		return 0;
	}
	for (i = 0; i < av->n; i++) {
		config_strv_free(&files);
		if ((r = config_include_glob(av->v[i], SSHDCONF_SYSTEM_DIR,
		    NULL, &files)) != 0) {
			if (r == FERR_ALLOC)
				goto out;
			sshdconf_rerr(rd, "include \"%s\" glob failed",
			    av->v[i]);
			r = 0;
			continue;
		}
		for (j = 0; j < files.n; j++) {
			if (rd->depth + 1 > CONFIG_MAX_DEPTH) {
				sshdconf_rerr(rd, "Too many recursive "
				    "configuration includes");
				goto out;
			}
			if ((r = config_read_file(files.v[j], 0, 0,
			    &b)) != 0) {
				sshdconf_rerr(rd, "Can't open config file %s: "
				    "%s", files.v[j], r == FERR_SYSTEM ?
				    strerror(errno) : err_str(r));
				r = 0;
				continue;
			}
			sub = *rd;
			sub.file = files.v[j];
			sub.line = 0;
			sub.depth = rd->depth + 1;
			sub.errors = 0;
			r = sshdconf_read_buf(&sub, b);
			buf_free(b);
			b = NULL;
			rd->errors += sub.errors;
			/* A Match in the included file ends with it. */
			rd->block = oblock;
			if (r != 0)
				goto out;
		}
	}
 out:
	config_strv_free(&files);
	buf_free(b);
	return r;
}

static int
sshdconf_line(struct sshdconf_reader *rd, char *line)
{
	const struct sshdconf_kw *kw;
	struct config_strv av = { NULL, 0 };
	char *key, *rest;
	int r;

	if ((r = config_split_line(line, &key, &rest)) == 1)
		return 0;
	if (r != 0) {
		sshdconf_rerr(rd, "missing keyword");
		return 0;
	}
	config_lower(key);
	if (*rest == '\0') {
		sshdconf_rerr(rd, "no argument after keyword \"%s\"", key);
		return 0;
	}
	if ((r = config_argv_split(rest, &av)) != 0) {
		if (r == FERR_ALLOC)
			return r;
		sshdconf_rerr(rd, "invalid quotes");
		return 0;
	}
	if (av.n == 0) {
		sshdconf_rerr(rd, "%s: missing argument", key);
		goto out;
	}
	if (strcmp(key, "match") == 0) {
		r = sshdconf_h_match(rd, &av);
		goto out;
	}
	if (strcmp(key, "include") == 0) {
		r = sshdconf_h_include(rd, &av);
		goto out;
	}
	if ((kw = sshdconf_lookup(key)) == NULL) {
		sshdconf_rerr(rd, "Bad configuration option: %s", key);
		goto out;
	}
	if (rd->block >= 0 && !(kw->flags & SD_MATCH)) {
		sshdconf_rerr(rd, "Directive '%s' is not allowed within a "
		    "Match block", key);
		goto out;
	}
	r = sshdconf_add_entry(rd, kw, &av, rest);
 out:
	config_strv_free(&av);
	return r;
}

static int
sshdconf_read_buf(struct sshdconf_reader *rd, struct buf *b)
{
	char *line;
	int r;

	for (;;) {
		r = config_next_line(b, &line);
		if (r == FERR_EOF)
			return 0;
		rd->line++;
		if (r == FERR_FORMAT) {
			sshdconf_rerr(rd, "NUL character in line");
			continue;
		}
		if (r != 0)
			return r;
		r = sshdconf_line(rd, line);
		free(line);
		if (r != 0)
			return r;
	}
}

/*
 * Check every entry and build the global settings.  Entries of Match
 * blocks are applied to a scratch configuration of their own so that
 * their values are checked too.
 */
static int
sshdconf_build(struct sshdconf_block *blk, int errors, struct sshdconf **cp)
{
	struct sshdconf *c = NULL, *scratch = NULL;
	struct sshdconf_apply ap;
	struct sshdconf_entry *e;
	size_t i;
	int r = 0, last = -2;

	*cp = NULL;
	if ((c = sshdconf_new_unset()) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	memset(&ap, 0, sizeof(ap));
	for (i = 0; i < blk->nentries; i++) {
		e = &blk->entries[i];
		if (e->block != last) {
			sshdconf_free(scratch);
			scratch = NULL;
			if (e->block >= 0 &&
			    (scratch = sshdconf_new_unset()) == NULL) {
				r = FERR_ALLOC;
				goto out;
			}
			last = e->block;
		}
		ap.c = e->block >= 0 ? scratch : c;
		ap.in_match = e->block >= 0;
		ap.file = e->file;
		ap.line = e->line;
		if ((r = sshdconf_apply_entry(&ap, e->kw, &e->av,
		    e->rest)) != 0)
			goto out;
	}
	errors += ap.errors;
	if (errors > 0) {
		log_error("terminating, %d bad configuration options",
		    errors);
		r = FERR_CONFIG;
		goto out;
	}
	if ((r = sshdconf_fill_defaults(c)) != 0)
		goto out;
	c->blocks_ = blk;
	blk->refs++;
	*cp = c;
	c = NULL;
 out:
	sshdconf_free(scratch);
	sshdconf_free(c);
	return r;
}

static int
sshdconf_load_common(struct buf *b, const char *name,
    const char *const *opts, size_t nopts, struct sshdconf **cp)
{
	struct sshdconf_block *blk;
	struct sshdconf_reader rd;
	char *line;
	size_t i;
	int r = 0;

	*cp = NULL;
	if ((blk = calloc(1, sizeof(*blk))) == NULL)
		return FERR_ALLOC;
	blk->refs = 1;
	memset(&rd, 0, sizeof(rd));
	rd.blk = blk;
	rd.block = -1;
	rd.cmdline = 1;
	rd.file = "command-line";
	/* Overrides come first: the first value wins. */
	for (i = 0; i < nopts && r == 0; i++) {
		rd.line = (int)i + 1;
		if ((line = strdup(opts[i])) == NULL) {
			r = FERR_ALLOC;
			break;
		}
		r = sshdconf_line(&rd, line);
		free(line);
	}
	rd.cmdline = 0;
	rd.file = name;
	rd.line = 0;
	if (r == 0)
		r = sshdconf_read_buf(&rd, b);
	if (r == 0)
		r = sshdconf_build(blk, rd.errors, cp);
	sshdconf_block_free(blk);
	return r;
}

int
sshdconf_load(const char *path, const char *const *opts, size_t nopts,
    struct sshdconf **cp)
{
	struct buf *b = NULL;
	int r;

	*cp = NULL;
	if ((r = config_read_file(path, 0, 0, &b)) != 0) {
		log_error("%s: %s", path, r == FERR_SYSTEM ?
		    strerror(errno) : err_str(r));
		return r;
	}
	r = sshdconf_load_common(b, path, opts, nopts, cp);
	buf_free(b);
	return r;
}

int
sshdconf_load_string(const char *text, size_t len, const char *name,
    const char *const *opts, size_t nopts, struct sshdconf **cp)
{
	struct buf *b;
	int r;

	*cp = NULL;
	if ((b = buf_from(text, len)) == NULL)
		return FERR_ALLOC;
	r = sshdconf_load_common(b, name, opts, nopts, cp);
	buf_free(b);
	return r;
}

/* Whether the user's groups match a group pattern list. */
static int
sshdconf_match_groups(const struct sshdconf_conn *conn, const char *list)
{
	size_t i;
	int found = 0;

	for (i = 0; i < conn->groups.n; i++) {
		switch (config_match_list(conn->groups.v[i], list, 0)) {
		case -1:
			return 0;	/* a negated match wins */
		case 1:
			found = 1;
			break;
		default:
			break;
		}
	}
	return found;
}

/* Whether all criteria of a Match line hold for conn. */
static int
sshdconf_block_matches(const struct config_strv *cr,
    const struct sshdconf_conn *conn)
{
	const char *attr, *v, *errstr;
	char *host;
	size_t i;
	int m;

	if (cr->n == 0)
		return 0;	/* a broken Match line */
	for (i = 0; i < cr->n; i++) {
		attr = cr->v[i];
		if (strcasecmp(attr, "all") == 0)
			continue;
		v = cr->v[++i];
		if (strcasecmp(attr, "user") == 0)
			m = conn->user != NULL &&
			    config_match_list(conn->user, v, 0) == 1;
		else if (strcasecmp(attr, "group") == 0)
			m = conn->user != NULL &&
			    sshdconf_match_groups(conn, v);
		else if (strcasecmp(attr, "host") == 0) {
			if (conn->host == NULL)
				m = 0;
			else if ((host = strdup(conn->host)) == NULL)
				return 0;
			else {
				m = config_match_list(config_lower(host), v,
				    1) == 1;
				free(host);
			}
		} else if (strcasecmp(attr, "address") == 0)
			m = conn->address != NULL &&
			    config_match_addr_list(conn->address, v) == 1;
		else if (strcasecmp(attr, "localaddress") == 0)
			m = conn->laddress != NULL &&
			    config_match_addr_list(conn->laddress, v) == 1;
		else if (strcasecmp(attr, "localport") == 0)
			m = conn->lport > 0 && conn->lport ==
			    (int)misc_strtonum(v, 1, 65535, &errstr);
		else
			m = 0;	/* RDomain: Ferry has no routing domains */
		if (!m)
			return 0;
	}
	return 1;
}

int
sshdconf_match(const struct sshdconf *c, const struct sshdconf_conn *conn,
    struct sshdconf **effp)
{
	struct sshdconf *eff = NULL, *overlay = NULL;
	struct sshdconf_block *blk = c->blocks_;
	struct sshdconf_apply ap;
	struct sshdconf_entry *e;
	int *applies = NULL, r;
	size_t i;

	*effp = NULL;
	if ((r = sshdconf_copy(c, &eff)) != 0)
		goto out;
	if (blk == NULL || blk->ncriteria == 0) {
		*effp = eff;
		return 0;
	}
	if ((overlay = sshdconf_new_unset()) == NULL ||
	    (applies = calloc(blk->ncriteria, sizeof(*applies))) == NULL) {
		r = FERR_ALLOC;
		goto out;
	}
	for (i = 0; i < blk->ncriteria; i++) {
		applies[i] = sshdconf_block_matches(&blk->criteria[i], conn);
		log_debug3("Match block %zu %s", i + 1, applies[i] ?
		    "applies" : "does not apply");
	}
	memset(&ap, 0, sizeof(ap));
	ap.c = overlay;
	ap.quiet = 1;
	ap.in_match = 1;
	for (i = 0; i < blk->nentries; i++) {
		e = &blk->entries[i];
		if (e->block < 0 || !applies[e->block])
			continue;
		ap.file = e->file;
		ap.line = e->line;
		if ((r = sshdconf_apply_entry(&ap, e->kw, &e->av,
		    e->rest)) != 0)
			goto out;
	}
	if ((r = sshdconf_merge(eff, overlay)) != 0)
		goto out;
	*effp = eff;
	eff = NULL;
 out:
	free(applies);
	sshdconf_free(overlay);
	sshdconf_free(eff);
	return r;
}

void
sshdconf_conn_clear(struct sshdconf_conn *conn)
{
	free(conn->user);
	config_strv_free(sshdconf_strv(&conn->groups));
	free(conn->host);
	free(conn->address);
	free(conn->laddress);
	memset(conn, 0, sizeof(*conn));
	conn->lport = -1;
}

/* The groups of user from the group database. */
static int
sshdconf_conn_groups(struct sshdconf_conn *conn)
{
	struct passwd *pw;
	struct group *gr;
	gid_t *gids = NULL;
	int ngroups = 64, i, r = 0;

	if ((pw = getpwnam(conn->user)) == NULL)
		return 0;
	for (;;) {
		free(gids);
		if ((gids = calloc((size_t)ngroups, sizeof(*gids))) == NULL)
			return FERR_ALLOC;
		i = ngroups;
		if (getgrouplist(pw->pw_name, pw->pw_gid, gids, &i) != -1) {
			ngroups = i;
			break;
		}
		if (i <= ngroups || ngroups > 65536) {
			ngroups = 0;
			break;
		}
		ngroups = i;
	}
	for (i = 0; i < ngroups && r == 0; i++) {
		if ((gr = getgrgid(gids[i])) == NULL)
			continue;
		r = config_strv_add(sshdconf_strv(&conn->groups), gr->gr_name,
		    SIZE_MAX);
	}
	free(gids);
	return r;
}

int
sshdconf_conn_parse(const char *spec, struct sshdconf_conn *conn)
{
	char *copy, *p, *f, *v, **dst;
	const char *errstr;
	int r = 0;

	memset(conn, 0, sizeof(*conn));
	conn->lport = -1;
	if ((copy = strdup(spec)) == NULL)
		return FERR_ALLOC;
	for (p = copy; (f = strsep(&p, ",")) != NULL && r == 0;) {
		if (*f == '\0')
			continue;
		if ((v = strchr(f, '=')) == NULL) {
			r = FERR_CONFIG;
			break;
		}
		*v++ = '\0';
		dst = NULL;
		if (strcmp(f, "user") == 0)
			dst = &conn->user;
		else if (strcmp(f, "host") == 0)
			dst = &conn->host;
		else if (strcmp(f, "addr") == 0)
			dst = &conn->address;
		else if (strcmp(f, "laddr") == 0)
			dst = &conn->laddress;
		else if (strcmp(f, "lport") == 0) {
			conn->lport = (int)misc_strtonum(v, 1, 65535, &errstr);
			if (errstr != NULL)
				r = FERR_CONFIG;
			continue;
		} else if (strcmp(f, "rdomain") == 0)
			continue;
		else {
			r = FERR_CONFIG;
			break;
		}
		free(*dst);
		if ((*dst = strdup(v)) == NULL)
			r = FERR_ALLOC;
	}
	free(copy);
	if (r == 0 && conn->user != NULL)
		r = sshdconf_conn_groups(conn);
	if (r != 0) {
		log_error("invalid test mode specification %s", spec);
		sshdconf_conn_clear(conn);
	}
	return r;
}
