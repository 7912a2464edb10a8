/*
 * Internals shared by the sshd_config reader (sshdconf.c, keyword table
 * and value handlers; sshdconf-load.c, files and Match) and
 * sshdconf-print.c (defaults, copies, printing).
 */
#ifndef FERRY_SSHDCONF_INT_H
#define FERRY_SSHDCONF_INT_H

#include "config-util.h"
#include "ferry/sshdconf.h"

enum sshdconf_type {
	SD_FLAG, SD_ENUM, SD_INT, SD_TIME, SD_STR, SD_ALGS, SD_REST,
	SD_LIST_ACC,	/* every argument of every line is appended */
	SD_LIST_ONCE,	/* the arguments of the first line */
	SD_SPECIAL, SD_IGNORED, SD_DEPRECATED,
};

#define SD_MATCH	0x01	/* allowed inside a Match block */
#define SD_ONEARG	0x02	/* SD_LIST_ACC: one argument per line */

/* Where one entry is being applied. */
struct sshdconf_apply {
	struct sshdconf	*c;
	const char	*file;
	int		 line;
	int		 errors;
	int		 quiet;		/* replaying checked lines */
	int		 in_match;
};

struct sshdconf_kw {
	const char		*name;
	enum sshdconf_type	 type;
	size_t			 off;
	const struct config_enum *tab;
	long long		 min, max;
	const char		*algkind;	/* SD_IGNORED: neutral value */
	int			 flags;
	int			(*handler)(struct sshdconf_apply *,
				    const struct sshdconf_kw *,
				    const struct config_strv *, const char *);
};

/* One keyword line, and the Match block (or -1) it belongs to. */
struct sshdconf_entry {
	char			*file;
	int			 line;
	const struct sshdconf_kw *kw;
	struct config_strv	 av;
	char			*rest;
	int			 block;
};

/* The parsed file: entries and the criteria of each Match block. */
struct sshdconf_block {
	struct sshdconf_entry	*entries;
	size_t			 nentries;
	struct config_strv	*criteria;
	size_t			 ncriteria;
	int			 refs;
};

extern const struct sshdconf_kw sshdconf_keywords[];
extern const struct config_enum sshdconf_flag_tab[];
extern const struct config_enum sshdconf_af_tab[];
extern const struct config_enum sshdconf_root_tab[];
extern const struct config_enum sshdconf_compression_tab[];
extern const struct config_enum sshdconf_loglevel_tab[];
extern const struct config_enum sshdconf_facility_tab[];

static inline struct config_strv *
sshdconf_strv(struct sshdconf_list *l)
{
	return (struct config_strv *)(void *)l;
}

static inline const struct config_strv *
sshdconf_cstrv(const struct sshdconf_list *l)
{
	return (const struct config_strv *)(const void *)l;
}

void sshdconf_err(struct sshdconf_apply *ap, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const struct sshdconf_kw *sshdconf_lookup(const char *kw);
int sshdconf_apply_entry(struct sshdconf_apply *ap,
    const struct sshdconf_kw *kw, const struct config_strv *av,
    const char *rest);
int sshdconf_split_listen(const char *s, char *host, size_t hostlen,
    int *portp);

/* sshdconf-print.c */
struct sshdconf *sshdconf_new_unset(void);
void sshdconf_penalties_default(struct sshdconf_penalties *p);
int sshdconf_fill_defaults(struct sshdconf *c);
int sshdconf_copy(const struct sshdconf *src, struct sshdconf **dstp);
int sshdconf_merge(struct sshdconf *dst, struct sshdconf *overlay);
void sshdconf_block_free(struct sshdconf_block *b);

#endif /* FERRY_SSHDCONF_INT_H */
