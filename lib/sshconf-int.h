/*
 * Internals shared by sshconf.c (reading) and sshconf-print.c
 * (defaults and printing).
 */
#ifndef FERRY_SSHCONF_INT_H
#define FERRY_SSHCONF_INT_H

#include "config-util.h"

/* Flag of an included file whose including block does not apply. */
#define SSHCONF_NEVERMATCH	0x100

extern const struct config_enum sshconf_flag_tab[];
extern const struct config_enum sshconf_strict_tab[];
extern const struct config_enum sshconf_pubkey_tab[];
extern const struct config_enum sshconf_af_tab[];
extern const struct config_enum sshconf_loglevel_tab[];

/* struct sshconf_list and struct config_strv share one layout. */
static inline struct config_strv *
sshconf_strv(struct sshconf_list *l)
{
	return (struct config_strv *)(void *)l;
}

static inline const struct config_strv *
sshconf_cstrv(const struct sshconf_list *l)
{
	return (const struct config_strv *)(const void *)l;
}


/* Whether kw (any case) is a keyword of the table. */
int sshconf_keyword_known(const char *kw);

#endif /* FERRY_SSHCONF_INT_H */
